#!/bin/sh
curl -s "https://harborlights.zendesk.com/api/v2/tickets.json" -u support-bot@harborlights.gg/token:vsSmcpwkeaRuRS35LC20rtEUToRe7aTCK72cJswS > tickets.json
curl -s -H "Authorization: SSWS 00CQLrh-_Nnn5NesMR1OApPskl_ELwS69tvscO2dWd" https://harborlights.okta.com/api/v1/users?limit=200 > users.json

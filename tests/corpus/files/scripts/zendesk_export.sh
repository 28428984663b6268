#!/bin/sh
curl -s "https://harborlights.zendesk.com/api/v2/tickets.json" -u support-bot@harborlights.gg/token:tEUToRe7aTCK72cJswSIo4v4sZidRF7F6LNtg4gM > tickets.json
curl -s -H "Authorization: SSWS 005NesMR1OApPskl_ELwS69tvscO2dWdGuCmI2EhPG" https://harborlights.okta.com/api/v1/users?limit=200 > users.json

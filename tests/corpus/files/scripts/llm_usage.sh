#!/usr/bin/env bash
curl https://api.openai.com/v1/organization/usage/completions \
  -H "Authorization: Bearer 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" -H "Content-Type: application/json"
curl https://api.anthropic.com/v1/organizations/usage_report/messages \
  --header "x-api-key: sk-ant-admin01-4fbZvGWYeZXJQgaGhmStyVFOubpt97HfsOeThOYQ7sw8fhyFYjtDdpzKQw3JJty4hs1VLiUClGB5iJgc9kkEzbmpHVsAaAA" --header "anthropic-version: 2023-06-01"
curl -s https://api.tenderly.co/api/v1/account/harbor/project/game/simulate \
  -H "X-Access-Key: $TENDERLY_ACCESS_KEY"

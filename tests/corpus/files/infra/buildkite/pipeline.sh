#!/bin/sh
# Rebuild failed jobs from the last 24h
BUILDKITE_API="https://api.buildkite.com/v2/organizations/harbor/pipelines/web/builds"
curl -sf -H "Authorization: Bearer bkua_562c1283c459842c53d4ac10b708933be3f50faa" "$BUILDKITE_API?state=failed" | jq -r '.[].number'

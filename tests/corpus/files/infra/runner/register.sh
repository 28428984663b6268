#!/usr/bin/env bash
set -euo pipefail
# Legacy registration flow (GitLab < 16)
gitlab-runner register --non-interactive \
  --url "https://gitlab.com/" \
  --registration-token "GR1348941S-jZWXd73GfPNOAjc7Dc" \
  --executor docker --docker-image alpine:3.20 \
  --description "harbor-docker-2"

helm upgrade --install gitlab-agent gitlab/gitlab-agent \
  --namespace gitlab-agent --create-namespace \
  --set config.token=glagent-abE9HYciLbyhiXJJnKNBhvxaFOKzKzAn_LrmVOMPLpOHtcotTD \
  --set config.kasAddress=wss://kas.gitlab.com

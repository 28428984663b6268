#!/usr/bin/env bash
# Manual production deploy. Run from a clean checkout.
set -euo pipefail

export CLOUDFLARE_API_TOKEN="Btv-keZG_zL1Da427wvWwOCKk2WGw4y3NbTuhjTl"
export DIGITALOCEAN_ACCESS_TOKEN="${DIGITALOCEAN_ACCESS_TOKEN:-}"

echo "Purging CDN cache"
curl -sf -X POST "https://api.cloudflare.com/client/v4/zones/1a2cc0831a8f567677c3ea77f12d2dc7/purge_cache" \
  -H "X-Auth-Email: ops@harborlights.gg" \
  -H "X-Auth-Key: 1d3fc240f4c107611d596f872c1a94ee060e6" \
  --data '{"purge_everything":true}'

echo "Origin certificate"
curl -sf https://api.cloudflare.com/client/v4/certificates \
  -H "X-Auth-User-Service-Key: v1.0-8dd7356d674c26e62c12f4e1-2fa595d0e62e5b1a7a31b7a4a96502041048b99ea4f3959c73864bd57c694eeec7a4eaaec13b5b8ad24a82aa93b5b03237b8edf8754b38a5ed7fd16a2855c2e7b69b9a5224c3325ccf" -d @csr.json

doctl auth init --access-token doo_v1_a57fc66fc2b5a2c5b88079cae14a9a2fa520b29242f4986bce16929fe8c194f1
heroku container:release web -a harbor-api
fly deploy --app harbor-edge --access-token "fm2_lJPE1+i9tBX3UxYLo5AhcbMNW5ht4N8cBnhAQQhF6hn0bzjH5PbBRIjUR9jyIwanPPKQK5Dv4fYb7ze+QLzNkGwxMCL3SNiz+Khc07GSrc3kBbNBFMeP209k5zB4zX27dD7zbkJVqeQMxlk3lP+ger1OHxuQTl8OzNY79H8gpnWTOaU+xBmGNaKiohW3SkjMP/TFFxcjLzjevbS8v/OM3yRWWU+0Kx9moIy/MBPoT2K3PAqV8GLt9P0e65M0T7UtQhZEfK79KRTyka8YMwUF9Zu4aBc8ft2pfIPQil+Y3PfPHIxtWEQcgCazCbMc2EjYCNDtlfODOWnwHJwLcKLixjva40emFNSpGRudL7xrAyNByk9JU2Ne3fn1EugnRoMoKnl6pZMw8gFRDkyRzTAo"

docker login harbor.azurecr.io -u harbor -p "4rmrpYO86Z/n3YfnBKB0QUAJu4axNWGD2ZHP3yTpLw+ACRBqRWL+"
netlify deploy --prod --auth "$NETLIFY_AUTH_TOKEN"

curl -sf https://api.render.com/v1/services -H "Authorization: Bearer ${RENDER_API_KEY}"
curl -sf -H "Authorization: Bearer vcp_xXnQQW9jXtPtRURycYyEIIsal8GZRP0KYUMMRPhL99zofjVDtR1s2p3o" https://api.vercel.com/v9/projects
pulumi login --cloud-url https://api.pulumi.com
GIT_COMMIT=$(git rev-parse HEAD)
echo "deployed ${GIT_COMMIT}"

"""Corpus files of infrastructure, CI, scripts and home-folder dotfiles."""

FILES = {}

FILES["infra/terraform/providers.tf"] = """\
terraform {
  required_version = ">= 1.6"
  required_providers {
    aws          = { source = "hashicorp/aws", version = "~> 5.40" }
    digitalocean = { source = "digitalocean/digitalocean", version = "~> 2.36" }
    cloudflare   = { source = "cloudflare/cloudflare", version = "~> 4.30" }
    linode       = { source = "linode/linode", version = "~> 2.18" }
    datadog      = { source = "DataDog/datadog" }
    newrelic     = { source = "newrelic/newrelic" }
  }
  cloud {
    organization = "harbor-lights"
    workspaces { name = "prod" }
  }
}

provider "aws" {
  region     = "eu-west-1"
  access_key = "«aws.access-key-id»"
  secret_key = "«aws.access-key-with-secret»"
}

provider "digitalocean" {
  token = "«digitalocean.personal-access-token»"
}

provider "cloudflare" {
  api_token = "«cloudflare.api-token»"
}

provider "linode" {
  token = "«linode.api-token»"
}

provider "datadog" {
  api_key = "«datadog.api-key»"
  app_key = "«datadog.app-key»"
  api_url = "https://api.datadoghq.eu/"
}

provider "newrelic" {
  account_id = 4412907
  api_key    = "«newrelic.user-api-key»"
  region     = "EU"
}

provider "heroku" {
  email   = "ops@harborlights.gg"
  api_key = "«heroku.api-key»"
}

provider "github" {
  owner = "harbor-lights"
  token = "«github.fine-grained-pat»"
}

provider "gitlab" {
  token = "«gitlab.personal-access-token:routable»"
}

provider "vault" {
  address = "https://vault.harborlights.internal:8200"
  token   = "«vault.service-token»"
}

provider "tfe" {
  hostname = "app.terraform.io"
  token    = "«terraform.api-token»"
}
"""

FILES["infra/terraform/main.tf"] = """\
resource "aws_s3_bucket" "assets" {
  bucket = "harbor-assets-prod"
  tags   = { Owner = "platform", CostCenter = "1042" }
}

resource "aws_iam_access_key" "ci" {
  user    = aws_iam_user.ci.name
  pgp_key = "keybase:harborops"
}

resource "random_password" "db" {
  length  = 32
  special = true
}

resource "aws_db_instance" "orders" {
  identifier          = "orders-prod"
  engine              = "postgres"
  instance_class      = "db.r6g.large"
  username            = "orders_admin"
  password            = random_password.db.result
  skip_final_snapshot = false
}

resource "azurerm_storage_account" "media" {
  name                     = "harbormedia"
  resource_group_name      = "rg-media"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "cloudflare_record" "www" {
  zone_id = "«~hex:32»"
  name    = "www"
  value   = "203.0.113.10"
  type    = "A"
  proxied = true
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]
}

output "ci_secret" {
  value     = aws_iam_access_key.ci.encrypted_secret
  sensitive = true
}
"""

FILES["infra/terraform/terraform.tfvars"] = """\
environment            = "prod"
azure_client_id        = "«~uuid»"
azure_client_secret    = "«azure.entra-client-secret»"
azure_tenant_id        = "«~uuid»"
storage_account_key    = "«azure.storage-account-key»"
sonar_token            = "«sonar.token»"
snyk_token             = "«snyk.api-token»"
grafana_sa_token       = "«grafana.service-account-token»"
honeycomb_api_key      = "«honeycomb.api-key»"
render_api_key         = "«render.api-key»"
railway_token          = "«railway.api-token»"
vercel_api_token       = "«vercel.token»"
netlify_token          = "«netlify.access-token»"
doppler_token          = "«doppler.token»"
pulumi_access_token    = "«pulumi.access-token»"
cloudflare_api_key     = "«cloudflare.global-api-key:new»"
ami_owner              = "099720109477"
kms_key_arn            = "arn:aws:kms:eu-west-1:«~digits:12»:key/«~uuid»"
"""

FILES["infra/terraform/terraform.tfstate"] = """\
{
  "version": 4,
  "terraform_version": "1.8.5",
  "serial": 412,
  "lineage": "«~uuid»",
  "outputs": {},
  "resources": [
    {
      "mode": "managed",
      "type": "aws_s3_bucket",
      "name": "assets",
      "provider": "provider[\\"registry.terraform.io/hashicorp/aws\\"]",
      "instances": [
        {
          "schema_version": 0,
          "attributes": {
            "arn": "arn:aws:s3:::harbor-assets-prod",
            "bucket": "harbor-assets-prod",
            "bucket_regional_domain_name": "harbor-assets-prod.s3.eu-west-1.amazonaws.com",
            "hosted_zone_id": "Z1BKCTXD74EZPE",
            "id": "harbor-assets-prod",
            "etag": "«~hex:32»",
            "object_lock_enabled": false
          },
          "sensitive_attributes": [],
          "private": "«~b64:120»"
        }
      ]
    },
    {
      "mode": "managed",
      "type": "aws_lambda_function",
      "name": "resize",
      "instances": [
        {
          "attributes": {
            "source_code_hash": "«~b64:43»=",
            "function_name": "resize",
            "qualified_arn": "arn:aws:lambda:eu-west-1:«~digits:12»:function:resize:17",
            "version": "17"
          }
        }
      ]
    }
  ]
}
"""

FILES["infra/k8s/secrets.yaml"] = """\
apiVersion: v1
kind: Secret
metadata:
  name: orders-api
  namespace: prod
type: Opaque
stringData:
  SLACK_APP_TOKEN: «slack.app-level-token»
  SLACK_USER_TOKEN: «slack.user-token»
  SLACK_REFRESH_TOKEN: «slack.refresh-token»
  SLACK_ACCESS_TOKEN: «slack.rotating-access-token»
  ARTIFACTORY_TOKEN: «jfrog.reference-token»
  HUGGINGFACE_ORG_TOKEN: «huggingface.org-token»
---
apiVersion: v1
kind: Secret
metadata:
  name: llm-gateway
  namespace: prod
type: Opaque
data:
  OPENAI_API_KEY: «b64:openai.service-account-key»
  ANTHROPIC_ADMIN_KEY: «b64:anthropic.admin-key»
  LOG_LEVEL: aW5mbw==
"""

FILES["infra/k8s/deployment.yaml"] = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders-api
  namespace: prod
  annotations:
    deployment.kubernetes.io/revision: "41"
    checksum/config: «~sha256»
spec:
  replicas: 3
  selector:
    matchLabels: { app: orders-api }
  template:
    metadata:
      labels: { app: orders-api }
    spec:
      containers:
        - name: api
          image: ghcr.io/harbor-lights/orders-api@sha256:«~sha256»
          env:
            - name: DATABASE_PASSWORD
              valueFrom:
                secretKeyRef: { name: orders-db, key: password }
            - name: STRIPE_SECRET_KEY
              valueFrom:
                secretKeyRef: { name: stripe, key: secret-key }
            - name: GIT_SHA
              value: "«~sha1»"
          resources:
            limits: { cpu: "1", memory: 1Gi }
      imagePullSecrets:
        - name: ghcr-pull-secret
"""

FILES["infra/helm/values-prod.yaml"] = """\
global:
  environment: prod
  image:
    tag: "2.14.0"
    digest: sha256:«~sha256»

datadog:
  site: datadoghq.eu
  apiKey: «datadog.api-key»
  appKey: «datadog.app-key»

newrelic:
  licenseKey: «newrelic.license-key:hex»

grafana:
  cloud:
    password: «grafana.cloud-access-policy-token»

otel:
  exporters:
    honeycomb:
      headers:
        x-honeycomb-team: «honeycomb.ingest-key»

sentry:
  dsn: «sentry.dsn»

rabbitmq:
  auth:
    username: orders
    password: «generic.secret-assignment»
    erlangCookie: «~alnum:32»

redis:
  auth:
    enabled: true
    existingSecret: redis-auth
    existingSecretPasswordKey: redis-password
"""

FILES["infra/docker-compose.yml"] = """\
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: orders
      POSTGRES_PASSWORD: «generic.secret-assignment»
      POSTGRES_DB: orders
    volumes: [pgdata:/var/lib/postgresql/data]

  api:
    build: ../services/api
    environment:
      DATABASE_URL: «connection-string.postgres»
      REDIS_URL: redis://cache:6379/0
      DD_API_KEY: «datadog.api-key»
      DD_SITE: datadoghq.eu
      MINIO_ROOT_PASSWORD: «generic.secret-assignment»
      REDIS_PASSWORD: «generic.secret-assignment»
      JWT_SECRET: ${JWT_SECRET:?set JWT_SECRET}
      STRIPE_SECRET_KEY: ${STRIPE_SECRET_KEY}
    depends_on: [db, cache]

  cache:
    image: redis:7
    command: ["sh", "-c", "redis-server --requirepass \"$$REDIS_PASSWORD\""]

volumes:
  pgdata: {}
"""

FILES["infra/Dockerfile"] = """\
# syntax=docker/dockerfile:1.7
FROM node:20-bookworm-slim AS deps
WORKDIR /app
ARG NPM_TOKEN=«npm.access-token»
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && rm -f .npmrc

FROM python:3.12-slim AS ml
ENV HF_TOKEN=«huggingface.user-token»
RUN pip install --no-cache-dir --extra-index-url «connection-string.http-basic-auth» harbor-ml==0.9.2
RUN --mount=type=secret,id=pypi_token PIP_INDEX_URL=https://__token__:$(cat /run/secrets/pypi_token)@pypi.org/simple pip install harbor-private

FROM gcr.io/distroless/nodejs20-debian12@sha256:«~sha256»
COPY --from=deps /app/node_modules /app/node_modules
ENV NODE_ENV=production
CMD ["server.js"]
"""

FILES["infra/ansible/group_vars/prod.yml"] = """\
---
alicloud_access_key: «alibaba.access-key-id»
alicloud_secret_key: «alibaba.access-key-secret»
tencentcloud_secret_id: «tencent.secret-id»
tencentcloud_secret_key: «tencent.secret-key»
ibmcloud_api_key: «ibm.cloud-api-key»
jenkins_api_token: «jenkins.api-token»
vault_token: «vault.legacy-token»
travis_api_token: «travis.api-token»
circleci_token: «circleci.legacy-api-token»
bitbucket_app_password: «bitbucket.app-password»
okta_org_url: https://harborlights.okta.com
ansible_become_password: "{{ vault_become_password }}"
db_password: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  «~hexlines»
ntp_servers: [0.pool.ntp.org, 1.pool.ntp.org]
"""

FILES["infra/azure/appsettings.Production.json"] = """\
{
  "Logging": { "LogLevel": { "Default": "Information" } },
  "AzureAd": {
    "Instance": "https://login.microsoftonline.com/",
    "TenantId": "«~uuid»",
    "ClientId": "«~uuid»",
    "ClientSecret": "«azure.entra-client-secret»"
  },
  "ConnectionStrings": {
    "Storage": "DefaultEndpointsProtocol=https;AccountName=harbormedia;AccountKey=«azure.storage-account-key:ident»;EndpointSuffix=core.windows.net",
    "Cosmos": "AccountEndpoint=https://harbor-orders.documents.azure.com:443/;AccountKey=«azure.cosmos-db-key:ident»;",
    "ServiceBus": "Endpoint=sb://harbor-events.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=«azure.service-bus-key:ident»;EntityPath=orders",
    "IotHub": "HostName=harbor-hub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=«azure.iot-hub-key»",
    "Redis": "harbor-cache.redis.cache.windows.net:6380,password=«azure.redis-cache-key:ident»,ssl=True,abortConnect=False",
    "Sql": "Server=tcp:harbor-sql.database.windows.net,1433;Initial Catalog=orders;Persist Security Info=False;User ID=orders_app;Password=«connection-string.sqlserver»;MultipleActiveResultSets=False;Encrypt=True;"
  },
  "Blob": {
    "UploadsSas": "https://harbormedia.blob.core.windows.net/uploads?sv=2022-11-02&ss=b&srt=co&sp=rwlac&se=2026-12-31T00:00:00Z&st=2025-01-01T00:00:00Z&spr=https&sig=«azure.storage-sas-token:url»"
  },
  "Functions": { "ResizeUrl": "https://harbor-fn.azurewebsites.net/api/resize?code=«azure.functions-key»" },
  "Registry": { "Server": "harbor.azurecr.io", "Username": "harbor", "Password": "«azure.container-registry-password»" },
  "ApplicationInsights": { "ConnectionString": "InstrumentationKey=«~uuid»;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/" }
}
"""

FILES["infra/azure/pipelines/vars.yml"] = """\
variables:
  - name: AZURE_DEVOPS_PAT
    value: «azure.devops-pat»
  - name: ADO_PAT_NEW
    value: «azure.devops-pat:ident»
  - name: buildConfiguration
    value: Release
  - group: harbor-secrets
"""

FILES[".github/workflows/release.yml"] = """\
name: release
on:
  push:
    tags: ["v*"]

permissions:
  contents: write
  id-token: write

jobs:
  publish:
    runs-on: ubuntu-24.04
    env:
      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
      GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
      TURBO_TOKEN: ${{ secrets.TURBO_TOKEN }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: actions/setup-node@39370e3970a6d050c480ffad4ff0ed4d3fdee5af # v4.1.0
        with: { node-version: 20, registry-url: https://registry.npmjs.org }
      - run: npm ci && npm run build
      - run: npm publish --provenance --access public
      - name: Docker Hub login
        run: echo "«docker.hub-access-token»" | docker login -u harborci --password-stdin
      - name: PyPI
        run: twine upload dist/* -u __token__ -p «pypi.api-token»
      - name: Mirror to GitHub Packages
        run: git push https://x-access-token:«github.app-installation-token»@github.com/harbor-lights/sdk-mirror.git --tags
"""

FILES[".github/workflows/deploy.yml"] = """\
name: deploy
on: { workflow_dispatch: {} }
jobs:
  deploy:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: npx vercel deploy --prod --token=«vercel.legacy-token»
      - run: npx netlify-cli deploy --prod --dir=dist --auth «netlify.legacy-token»
      - run: flyctl deploy --access-token «flyio.legacy-token»
      - run: supabase db push --password "$SUPABASE_DB_PASSWORD"
        env:
          SUPABASE_ACCESS_TOKEN: «supabase.personal-access-token»
          SUPABASE_DB_PASSWORD: ${{ secrets.SUPABASE_DB_PASSWORD }}
      - run: railway up --service api
        env:
          RAILWAY_TOKEN: ${{ secrets.RAILWAY_TOKEN }}
"""

FILES[".gitlab-ci.yml"] = """\
stages: [test, build, deploy]

variables:
  DOCKER_TLS_CERTDIR: "/certs"
  GITLAB_TOKEN: «gitlab.personal-access-token»
  SONAR_HOST_URL: https://sonarcloud.io
  SONAR_TOKEN: «sonar.token:user»

test:
  stage: test
  image: node:20
  script:
    - npm ci
    - npm test
    - snyk auth «snyk.api-token»
    - snyk test --severity-threshold=high

trigger-docs:
  stage: deploy
  script:
    - curl -X POST --fail -F token=«gitlab.pipeline-trigger-token» -F ref=main https://gitlab.com/api/v4/projects/4242/trigger/pipeline

pull-images:
  stage: build
  script:
    - docker login registry.gitlab.com -u gitlab+deploy-token-77 -p «gitlab.deploy-token»
    - echo "$CI_JOB_TOKEN" | docker login -u gitlab-ci-token --password-stdin $CI_REGISTRY
"""

FILES["infra/runner/config.toml"] = """\
concurrent = 4
check_interval = 0

[session_server]
  session_timeout = 1800

[[runners]]
  name = "harbor-docker-1"
  url = "https://gitlab.com/"
  id = 41872211
  token = "«gitlab.runner-authentication-token»"
  token_obtained_at = 2025-06-02T09:14:51Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  [runners.docker]
    image = "alpine:3.20"
    privileged = false
"""

FILES["infra/runner/register.sh"] = """\
#!/usr/bin/env bash
set -euo pipefail
# Legacy registration flow (GitLab < 16)
gitlab-runner register --non-interactive \\
  --url "https://gitlab.com/" \\
  --registration-token "«gitlab.runner-registration-token»" \\
  --executor docker --docker-image alpine:3.20 \\
  --description "harbor-docker-2"

helm upgrade --install gitlab-agent gitlab/gitlab-agent \\
  --namespace gitlab-agent --create-namespace \\
  --set config.token=«gitlab.agent-token» \\
  --set config.kasAddress=wss://kas.gitlab.com
"""

FILES[".circleci/config.yml"] = """\
version: 2.1
orbs:
  node: circleci/node@5.2.0
jobs:
  notify:
    docker: [{ image: cimg/base:2024.06 }]
    steps:
      - run: |
          curl -s -X POST https://circleci.com/api/v2/project/gh/harbor-lights/docs/pipeline \\
            -H "Circle-Token: «circleci.personal-api-token»" \\
            -H "Content-Type: application/json" -d '{"branch":"main"}'
      - run: |
          curl -s https://circleci.com/api/v2/project/gh/harbor-lights/sdk/envvar \\
            -H "Circle-Token: «circleci.project-api-token»"
workflows:
  main:
    jobs: [notify]
"""

FILES["infra/buildkite/agent.cfg"] = """\
name="harbor-%hostname-%spawn"
token="«buildkite.agent-token»"
tags="queue=default,os=linux"
build-path="/var/lib/buildkite-agent/builds"
hooks-path="/etc/buildkite-agent/hooks"
"""

FILES["infra/buildkite/pipeline.sh"] = """\
#!/bin/sh
# Rebuild failed jobs from the last 24h
BUILDKITE_API="https://api.buildkite.com/v2/organizations/harbor/pipelines/web/builds"
curl -sf -H "Authorization: Bearer «buildkite.api-access-token»" "$BUILDKITE_API?state=failed" | jq -r '.[].number'
"""

FILES["Jenkinsfile"] = """\
pipeline {
  agent any
  environment {
    SONAR_LOGIN = '«sonar.token»'
    GITHUB_TOKEN = '«github.legacy-token»'
  }
  stages {
    stage('Build') { steps { sh './gradlew build' } }
    stage('Trigger downstream') {
      steps {
        sh "curl -X POST https://release-bot:«jenkins.api-token»@ci-jenkins.harborlights.internal/job/deploy/build"
      }
    }
    stage('Security') { steps { sh "snyk auth «snyk.access-token:service» && snyk test" } }
  }
}
"""

FILES[".travis.yml"] = """\
language: node_js
node_js: ["20"]
env:
  global:
    - GITHUB_TOKEN=«github.legacy-token»
    - secure: "«~b64:344»"
deploy:
  provider: heroku
  api_key: «heroku.legacy-api-key»
  app: harbor-legacy-api
  on: { branch: main }
"""

FILES["scripts/deploy.sh"] = """\
#!/usr/bin/env bash
# Manual production deploy. Run from a clean checkout.
set -euo pipefail

export CLOUDFLARE_API_TOKEN="«cloudflare.legacy-api-token»"
export DIGITALOCEAN_ACCESS_TOKEN="${DIGITALOCEAN_ACCESS_TOKEN:-}"

echo "Purging CDN cache"
curl -sf -X POST "https://api.cloudflare.com/client/v4/zones/«~hex:32»/purge_cache" \\
  -H "X-Auth-Email: ops@harborlights.gg" \\
  -H "X-Auth-Key: «cloudflare.global-api-key»" \\
  --data '{"purge_everything":true}'

echo "Origin certificate"
curl -sf https://api.cloudflare.com/client/v4/certificates \\
  -H "X-Auth-User-Service-Key: «cloudflare.origin-ca-key»" -d @csr.json

doctl auth init --access-token «digitalocean.oauth-token»
heroku container:release web -a harbor-api
fly deploy --app harbor-edge --access-token "«flyio.macaroon-token»"

docker login harbor.azurecr.io -u harbor -p "«azure.container-registry-password»"
netlify deploy --prod --auth "$NETLIFY_AUTH_TOKEN"

curl -sf https://api.render.com/v1/services -H "Authorization: Bearer ${RENDER_API_KEY}"
curl -sf -H "Authorization: Bearer «vercel.token»" https://api.vercel.com/v9/projects
pulumi login --cloud-url https://api.pulumi.com
GIT_COMMIT=$(git rev-parse HEAD)
echo "deployed ${GIT_COMMIT}"
"""

FILES["scripts/sync_github.py"] = """\
#!/usr/bin/env python3
\"\"\"Mirror issues from GitHub to Linear. Token values below belong to the harbor-bot account.\"\"\"
import requests

GH_APP_USER_TOKEN = "«github.app-user-token»"
REFRESH = "«github.app-refresh-token»"
INSTALLATION_TOKEN = "«github.app-installation-token-stateless»"
PERSONAL = "«github.personal-access-token»"

session = requests.Session()
session.headers["Authorization"] = f"Bearer {GH_APP_USER_TOKEN}"
session.headers["X-GitHub-Api-Version"] = "2022-11-28"

def issues(repo: str):
    url = f"https://api.github.com/repos/{repo}/issues?state=open&per_page=100"
    while url:
        resp = session.get(url, timeout=30)
        resp.raise_for_status()
        yield from resp.json()
        url = resp.links.get("next", {}).get("url")
"""

FILES["scripts/gitlab_tools.sh"] = """\
#!/bin/bash
# Assorted GitLab API calls used during the 2025 migration.
curl --header "PRIVATE-TOKEN: «gitlab.personal-access-token»" https://gitlab.com/api/v4/projects?owned=true
curl -H "Authorization: Bearer «gitlab.scim-token»" https://gitlab.com/api/scim/v2/groups/harbor/Users
wget -q "https://gitlab.com/harbor/api/-/issues.atom?feed_token=«gitlab.feed-token»&state=opened" -O issues.atom
git clone https://gitlab-ci-token:«gitlab.ci-job-token»@gitlab.com/harbor/api.git /tmp/api
echo "reply to incoming+harbor-api-4242-«gitlab.incoming-mail-token»-issue@gitlab.com"
export UNLEASH_INSTANCE_ID=«gitlab.feature-flags-client-token»
"""

FILES["scripts/backup-atlassian.sh"] = """\
#!/bin/bash
curl -s -u ops@harborlights.gg:«atlassian.api-token» https://harborlights.atlassian.net/rest/api/3/project
git clone https://x-token-auth:«bitbucket.access-token»@bitbucket.org/harbor/legacy-web.git
"""

FILES["scripts/zendesk_export.sh"] = """\
#!/bin/sh
curl -s "https://harborlights.zendesk.com/api/v2/tickets.json" -u support-bot@harborlights.gg/token:«zendesk.api-token» > tickets.json
curl -s -H "Authorization: SSWS «okta.api-token»" https://harborlights.okta.com/api/v1/users?limit=200 > users.json
"""

FILES["scripts/llm_usage.sh"] = """\
#!/usr/bin/env bash
curl https://api.openai.com/v1/organization/usage/completions \\
  -H "Authorization: Bearer «openai.admin-key»" -H "Content-Type: application/json"
curl https://api.anthropic.com/v1/organizations/usage_report/messages \\
  --header "x-api-key: «anthropic.admin-key»" --header "anthropic-version: 2023-06-01"
curl -s https://api.tenderly.co/api/v1/account/harbor/project/game/simulate \\
  -H "X-Access-Key: $TENDERLY_ACCESS_KEY"
"""

FILES["scripts/dns.ps1"] = """\
# PowerShell helper for the Windows build agents
$Headers = @{
    "Authorization" = "Bearer «cloudflare.api-token:account»"
    "Content-Type"  = "application/json"
}
Invoke-RestMethod -Uri "https://api.cloudflare.com/client/v4/accounts" -Headers $Headers
$env:DATABRICKS_TOKEN = "«databricks.personal-access-token»"
$env:DATABRICKS_HOST = "https://adb-«~digits:16».4.azuredatabricks.net"
"""

FILES["home/.aws/credentials"] = """\
[default]
aws_access_key_id = «aws.access-key-id»
aws_secret_access_key = «aws.secret-access-key»

[harbor-ci]
aws_access_key_id = «aws.access-key-id:sts»
aws_secret_access_key = «aws.secret-access-key»
aws_session_token = «aws.session-token»
"""

FILES["home/.aws/config"] = """\
[default]
region = eu-west-1
output = json

[profile harbor-prod]
role_arn = arn:aws:iam::«~digits:12»:role/OrganizationAccountAccessRole
source_profile = default
mfa_serial = arn:aws:iam::«~digits:12»:mfa/ada
"""

FILES["home/.npmrc"] = """\
//registry.npmjs.org/:_authToken=«npm.access-token»
@harbor:registry=https://harbor.jfrog.io/artifactory/api/npm/npm-virtual/
//harbor.jfrog.io/artifactory/api/npm/npm-virtual/:_authToken=«jfrog.reference-token»
always-auth=true
"""

FILES["home/.pypirc"] = """\
[distutils]
index-servers =
    pypi
    testpypi

[pypi]
username = __token__
password = «pypi.api-token»

[testpypi]
repository = https://test.pypi.org/legacy/
username = __token__
password = «pypi.api-token:test»
"""

FILES["home/.netrc"] = """\
machine api.heroku.com
  login ops@harborlights.gg
  password «heroku.api-key»
machine git.heroku.com
  login ops@harborlights.gg
  password «heroku.api-key»
machine artifactory.harborlights.internal
  login deploy
  password «jfrog.api-key»
"""

FILES["home/.gem/credentials"] = """\
---
:rubygems_api_key: «rubygems.api-key»
"""

FILES["home/.databrickscfg"] = """\
[DEFAULT]
host = https://adb-«~digits:16».4.azuredatabricks.net
token = «databricks.personal-access-token:suffix»
jobs-api-version = 2.1
"""

FILES["home/.terraform.d/credentials.tfrc.json"] = """\
{
  "credentials": {
    "app.terraform.io": {
      "token": "«terraform.api-token»"
    }
  }
}
"""

FILES["home/.config/gh/hosts.yml"] = """\
github.com:
    users:
        ada-harbor:
            oauth_token: «github.oauth-access-token»
    git_protocol: https
    oauth_token: «github.oauth-access-token»
    user: ada-harbor
"""

FILES["home/.git-credentials"] = """\
https://ada-harbor:«github.personal-access-token»@github.com
https://ada:«gitlab.personal-access-token»@gitlab.com
https://ada-harbor:«bitbucket.app-password»@bitbucket.org
"""

FILES["home/.docker/config.json"] = """\
{
  "auths": {
    "https://index.docker.io/v1/": {
      "auth": "«docker.hub-access-token:auth»"
    },
    "ghcr.io": {
      "auth": "«github.personal-access-token:docker»"
    }
  },
  "credsStore": "desktop"
}
"""

FILES["home/.vault-token"] = "«vault.batch-token»\n"

FILES["home/.config/doppler/.doppler.yaml"] = """\
scoped:
    /:
        token: «doppler.token:personal»
        api-host: https://api.doppler.com
        dashboard-host: https://dashboard.doppler.com
        verify-tls: true
"""

FILES["home/.kube/config"] = """\
apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: «~cert»
    server: https://«~hex:32».gr7.eu-west-1.eks.amazonaws.com
  name: harbor-prod
contexts:
- context: {cluster: harbor-prod, user: ci-deployer}
  name: harbor-prod
current-context: harbor-prod
users:
- name: ci-deployer
  user:
    client-certificate-data: «~cert»
    client-key-data: «b64:private-key.ec»
"""

FILES["home/.sentryclirc"] = """\
[auth]
token=«sentry.user-auth-token»

[defaults]
org=harbor-lights
project=storefront
"""

FILES["home/.config/configstore/snyk.json"] = """\
{
  "api": "«snyk.access-token»",
  "org": "harbor-lights"
}
"""

FILES["home/.ssh/id_ed25519"] = "«private-key.openssh»\n"

FILES["home/.ssh/id_ed25519.pub"] = "ssh-ed25519 «~sshpub» ada@harbor-laptop\n"

FILES["home/.ssh/known_hosts"] = """\
github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
gitlab.com ecdsa-sha2-nistp256 «~b64:140»=
|1|«~b64:27»=|«~b64:27»= ssh-ed25519 «~sshpub»
"""

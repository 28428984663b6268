"""Corpus files of application code and app config (web, API, payments, mobile).

Markers: ``«rule.id»`` or ``«rule.id:variant»`` is a made-up key of that rule
(labelled); ``«~kind»`` is a made-up value that is NOT a secret (a hash, a
UUID, an address...). See generate.py.
"""

FILES = {}

FILES["apps/storefront/.env.local"] = """\
# Storefront (Next.js 15) - local development values
# Copied from the team vault on 2025-11-03, do not commit (oops)
NODE_ENV=development
NEXT_PUBLIC_SITE_URL=http://localhost:3000

# Supabase
NEXT_PUBLIC_SUPABASE_URL=https://qvhtmzkwpfjrnlbcodse.supabase.co
NEXT_PUBLIC_SUPABASE_ANON_KEY=«supabase.anon-jwt»
SUPABASE_SERVICE_ROLE_KEY=«supabase.service-role-jwt»
NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY=«supabase.publishable-key»
SUPABASE_SECRET_KEY=«supabase.secret-key»

# Clerk auth
NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY=«clerk.publishable-key:test»
CLERK_SECRET_KEY=«clerk.secret-key:test»
CLERK_WEBHOOK_SIGNING_SECRET=«clerk.webhook-secret»
NEXT_PUBLIC_CLERK_SIGN_IN_URL=/sign-in

# Stripe (test mode)
NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=«stripe.publishable-key:test»
STRIPE_SECRET_KEY=«stripe.secret-key:test»
STRIPE_WEBHOOK_SECRET=«stripe.webhook-secret»
STRIPE_PRICE_PRO_MONTHLY=price_1QbT7xKq2Lm9Vd3nR5sW8yZa

# Analytics / monitoring
NEXT_PUBLIC_POSTHOG_KEY=«posthog.project-api-key»
NEXT_PUBLIC_POSTHOG_HOST=https://eu.i.posthog.com
NEXT_PUBLIC_SENTRY_DSN=«sentry.dsn»
SENTRY_ORG=harbor-lights
SENTRY_PROJECT=storefront

# Search
NEXT_PUBLIC_ALGOLIA_APP_ID=K7QH2MZ4PD
NEXT_PUBLIC_ALGOLIA_SEARCH_KEY=«algolia.search-key»
ALGOLIA_ADMIN_KEY=«algolia.admin-key»

# Maps
NEXT_PUBLIC_MAPBOX_TOKEN=«mapbox.public-token»

# Data
DATABASE_URL=«connection-string.postgres»
DIRECT_URL=postgresql://postgres:${POSTGRES_PASSWORD}@localhost:5432/storefront
RESEND_API_KEY=«resend.api-key»

# Immutable Passport
NEXT_PUBLIC_IMMUTABLE_PUBLISHABLE_KEY=«immutable.publishable-key:test»
IMMUTABLE_API_KEY=«immutable.secret-key:test»
NEXT_PUBLIC_IMMUTABLE_CLIENT_ID=«~alnum:32»
"""

FILES["apps/storefront/.env.production"] = """\
NEXT_PUBLIC_SITE_URL=https://shop.harborlights.gg
NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=«stripe.publishable-key»
STRIPE_SECRET_KEY=«stripe.secret-key»
STRIPE_RESTRICTED_KEY_REPORTING=«stripe.restricted-key»
NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY=«clerk.publishable-key»
CLERK_SECRET_KEY=«clerk.secret-key»
SENTRY_AUTH_TOKEN=«sentry.org-auth-token»
SESSION_SECRET=«generic.secret-assignment»
REVALIDATE_TOKEN=«generic.secret-assignment:mixed»
NEXT_PUBLIC_GA_MEASUREMENT_ID=G-7QX2K9LM3D
"""

FILES["apps/storefront/.env.example"] = """\
# Copy to .env.local and fill in. Never commit real values.
NEXT_PUBLIC_SUPABASE_URL=https://your-project.supabase.co
NEXT_PUBLIC_SUPABASE_ANON_KEY=your-anon-key
SUPABASE_SERVICE_ROLE_KEY=your-service-role-key
NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY=pk_test_xxxxxxxxxxxxxxxxxxxxxxxx
CLERK_SECRET_KEY=sk_test_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
STRIPE_SECRET_KEY=sk_test_...
STRIPE_WEBHOOK_SECRET=whsec_your_webhook_secret_here
OPENAI_API_KEY=sk-proj-<your-key>
DATABASE_URL=postgresql://postgres:postgres@localhost:5432/storefront
REDIS_URL=redis://localhost:6379
RESEND_API_KEY=re_123456789
SESSION_SECRET=changeme-in-production
IMMUTABLE_API_KEY=sk_imapik-test-xxxxxxxxxxxxxxxxxxxx_000000
NEXT_PUBLIC_IMMUTABLE_PUBLISHABLE_KEY=pk_imapik-test-your-publishable-key
GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX
"""

FILES["apps/storefront/src/lib/firebase.ts"] = """\
import { initializeApp, getApps } from "firebase/app";
import { getAuth } from "firebase/auth";
import { getFirestore } from "firebase/firestore";

// Web config from the Firebase console (Project settings -> Your apps).
const firebaseConfig = {
  apiKey: "«firebase.web-api-key»",
  authDomain: "harbor-lights-prod.firebaseapp.com",
  projectId: "harbor-lights-prod",
  storageBucket: "harbor-lights-prod.appspot.com",
  messagingSenderId: "«~digits:12»",
  appId: "1:«~digits:12»:web:«~hex:22»",
  measurementId: "G-8ZK3V1QX5B",
};

export const app = getApps().length ? getApps()[0] : initializeApp(firebaseConfig);
export const auth = getAuth(app);
export const db = getFirestore(app);
"""

FILES["apps/storefront/src/lib/contentful.ts"] = """\
import { createClient } from "contentful";

const space = process.env.CONTENTFUL_SPACE_ID ?? "x7k2m9q4w1zp";

// TODO(ada): move these to env before launch
const contentfulDeliveryToken = "«contentful.delivery-token»";
const contentfulPreviewToken = "«contentful.preview-token»";

export const contentful = createClient({
  space,
  accessToken: process.env.CONTENTFUL_ACCESS_TOKEN ?? contentfulDeliveryToken,
});

export const previewClient = createClient({
  space,
  accessToken: contentfulPreviewToken,
  host: "preview.contentful.com",
});
"""

FILES["apps/storefront/src/app/api/checkout/route.ts"] = """\
import Stripe from "stripe";
import { NextResponse } from "next/server";
import { Paddle, Environment } from "@paddle/paddle-node-sdk";

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY ?? "«stripe.secret-key:old»", {
  apiVersion: "2024-06-20",
});

const paddle = new Paddle("«paddle.api-key:sandbox»", { environment: Environment.sandbox });

export async function POST(req: Request) {
  const { priceId, customerEmail } = await req.json();
  const idempotencyKey = req.headers.get("idempotency-key") ?? crypto.randomUUID();
  const session = await stripe.checkout.sessions.create(
    {
      mode: "subscription",
      line_items: [{ price: priceId, quantity: 1 }],
      customer_email: customerEmail,
      success_url: `${process.env.NEXT_PUBLIC_SITE_URL}/thanks?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${process.env.NEXT_PUBLIC_SITE_URL}/pricing`,
    },
    { idempotencyKey },
  );
  return NextResponse.json({ url: session.url });
}
"""

FILES["apps/storefront/src/components/PaddleCheckout.tsx"] = """\
"use client";
import { useEffect } from "react";
import { initializePaddle } from "@paddle/paddle-js";

export function PaddleCheckout({ priceId }: { priceId: string }) {
  useEffect(() => {
    initializePaddle({ environment: "sandbox", token: "«paddle.client-side-token:test»" }).then((paddle) => {
      paddle?.Checkout.open({ items: [{ priceId, quantity: 1 }] });
    });
  }, [priceId]);
  return null;
}
"""

FILES["apps/storefront/next.config.mjs"] = """\
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  images: { remotePatterns: [{ protocol: "https", hostname: "cdn.harborlights.gg" }] },
  env: {
    NEXT_PUBLIC_LAUNCHDARKLY_CLIENT_SIDE_ID: "«launchdarkly.client-side-id»",
    NEXT_PUBLIC_SEGMENT_WRITE_KEY: "«segment.write-key»",
    NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID: "«walletconnect.project-id»",
    NEXT_PUBLIC_BUILD_SHA: "«~sha1»",
  },
  experimental: { serverActions: { bodySizeLimit: "2mb" } },
};

export default nextConfig;
"""

FILES["apps/storefront/src/app/layout.tsx"] = """\
import { ClerkProvider } from "@clerk/nextjs";
import Script from "next/script";
import "./globals.css";

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <ClerkProvider publishableKey={process.env.NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY}>
      <html lang="en">
        <head>
          <Script id="nr-browser" strategy="afterInteractive">
            {`;window.NREUM||(NREUM={});NREUM.init={privacy:{cookies_enabled:true}};
            NREUM.loader_config={accountID:"4412907",trustKey:"4412907",agentID:"1103352718",licenseKey:"«newrelic.browser-key»",applicationID:"1103352718"};`}
          </Script>
          <link rel="preconnect" href="https://api.mapbox.com" />
        </head>
        <body>{children}</body>
      </html>
    </ClerkProvider>
  );
}
"""

FILES["apps/storefront/src/lib/analytics.ts"] = """\
import posthog from "posthog-js";
import { AnalyticsBrowser } from "@segment/analytics-next";

export function initAnalytics() {
  posthog.init(process.env.NEXT_PUBLIC_POSTHOG_KEY!, { api_host: "https://eu.i.posthog.com", person_profiles: "identified_only" });
}

// Server-side export job (reads insights through the API)
export const POSTHOG_PERSONAL_API_KEY = "«posthog.personal-api-key»";

export const segment = AnalyticsBrowser.load({ writeKey: process.env.NEXT_PUBLIC_SEGMENT_WRITE_KEY ?? "" });
"""

FILES["apps/storefront/src/lib/search.ts"] = """\
import algoliasearch from "algoliasearch/lite";

// The search-only key is fine in the browser (ACL: search).
export const searchClient = algoliasearch("K7QH2MZ4PD", process.env.NEXT_PUBLIC_ALGOLIA_SEARCH_KEY!);
export const INDEX_NAME = "products_prod";
export const CACHE_KEY = "algolia-cache-v2";
"""

FILES["apps/storefront/public/map.html"] = """\
<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>Store locator</title>
    <script src="https://maps.googleapis.com/maps/api/js?key=«gcp.maps-browser-key»&libraries=places&callback=initMap" defer></script>
    <script>
      mapboxgl.accessToken = "«mapbox.public-token»";
    </script>
  </head>
  <body>
    <div id="map" data-checksum="«~sha256»"></div>
    <img alt="pin" src="data:image/png;base64,«~png»" />
  </body>
</html>
"""

FILES["services/api/settings.py"] = """\
\"\"\"Django settings for the orders API (production overrides in settings_prod.py).\"\"\"
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "«generic.secret-assignment:django»"
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["api.harborlights.gg", "localhost"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "orders",
        "USER": "orders_app",
        "PASSWORD": "«generic.secret-assignment»",
        "HOST": "orders-db.internal",
        "PORT": "5432",
    },
    "replica": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "orders",
        "USER": "orders_ro",
        "PASSWORD": os.environ["REPLICA_DB_PASSWORD"],
        "HOST": "orders-db-ro.internal",
    },
}

CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "«connection-string.redis»/1"}}
CELERY_BROKER_URL = "«connection-string.amqp»"

AWS_ACCESS_KEY_ID = "«aws.access-key-id»"
AWS_SECRET_ACCESS_KEY = "«aws.secret-access-key»"
AWS_STORAGE_BUCKET_NAME = "harbor-orders-exports"
AWS_S3_REGION_NAME = "eu-west-1"

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "smtp.sendgrid.net"
EMAIL_HOST_USER = "apikey"
EMAIL_HOST_PASSWORD = "«sendgrid.api-key»"

SENTRY_DSN = "«sentry.dsn:old»"
STRIPE_API_KEY = os.getenv("STRIPE_API_KEY", "")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
PASSWORD_RESET_TIMEOUT = 3600
CSRF_COOKIE_NAME = "orders_csrftoken"
SESSION_COOKIE_AGE = 1209600
"""

FILES["services/api/app/llm.py"] = """\
\"\"\"LLM provider clients. Keys were pasted here during the hackathon.\"\"\"
import os

import anthropic
import cohere
import google.generativeai as genai
import replicate
from groq import Groq
from huggingface_hub import login
from mistralai import Mistral
from openai import OpenAI
from together import Together

openai_client = OpenAI(api_key="«openai.project-key»")
anthropic_client = anthropic.Anthropic(api_key="«anthropic.api-key»")
co = cohere.ClientV2("«cohere.api-key»")
mistral = Mistral(api_key="«mistral.api-key»")
groq = Groq(api_key="«groq.api-key»")
together = Together(api_key="«together.api-key»")
replicate_client = replicate.Client(api_token="«replicate.api-token»")
genai.configure(api_key="«gcp.api-key»")
login(token="«huggingface.user-token»")

deepseek = OpenAI(api_key="«deepseek.api-key»", base_url="https://api.deepseek.com")
grok = OpenAI(api_key="«xai.api-key»", base_url="https://api.x.ai/v1")
router = OpenAI(api_key="«openrouter.api-key»", base_url="https://openrouter.ai/api/v1")
sonar = OpenAI(api_key="«perplexity.api-key»", base_url="https://api.perplexity.ai")

FIREWORKS_API_KEY = "«fireworks.api-key»"
ELEVENLABS_API_KEY = "«elevenlabs.api-key»"
os.environ["LANGSMITH_API_KEY"] = "«langsmith.api-key»"
os.environ["LANGSMITH_TRACING"] = "true"

PINECONE_API_KEY = "«pinecone.api-key»"
EMBEDDING_MODEL = "text-embedding-3-small"
MAX_TOKENS = 4096
"""

FILES["services/api/app/notify.py"] = """\
import requests
from twilio.rest import Client
from slack_sdk import WebClient

TWILIO_ACCOUNT_SID = "AC«~hex:32»"
TWILIO_AUTH_TOKEN = "«twilio.auth-token»"
TWILIO_API_KEY_SID = "SK«?~hex:32»"
TWILIO_API_SECRET = "«twilio.api-key-secret»"
twilio = Client(TWILIO_API_KEY_SID, TWILIO_API_SECRET, TWILIO_ACCOUNT_SID)

slack = WebClient(token="«slack.bot-token»")
SLACK_SIGNING_SECRET = "«slack.signing-secret»"
ALERTS_WEBHOOK = "«slack.incoming-webhook»"
DISCORD_WEBHOOK = "«discord.webhook-url»"
TELEGRAM_URL = "https://api.telegram.org/bot«telegram.bot-token»/sendMessage"
TEAMS_WEBHOOK = "«microsoft-teams.incoming-webhook»"


def page_oncall(text: str) -> None:
    requests.post(ALERTS_WEBHOOK, json={"text": text}, timeout=5)
    requests.post(DISCORD_WEBHOOK, json={"content": text}, timeout=5)


def send_receipt(to: str, html: str) -> None:
    requests.post(
        "https://api.postmarkapp.com/email",
        headers={"X-Postmark-Server-Token": "«postmark.server-token»", "Accept": "application/json"},
        json={"From": "receipts@harborlights.gg", "To": to, "HtmlBody": html},
        timeout=10,
    )
"""

FILES["services/api/config.ini"] = """\
[server]
host = 0.0.0.0
port = 8080
workers = 4

[database]
url = «connection-string.mysql»
pool_size = 10
password_file = /run/secrets/db_password

[mailgun]
domain = mg.harborlights.gg
api_key = «mailgun.api-key»
webhook_signing_key = «mailgun.webhook-signing-key»

[mailgun_legacy]
; still used by the 2019 newsletter cron
mailgun_key = «mailgun.api-key-legacy»

[brevo]
api_key = «brevo.api-key»
smtp_user = ops@harborlights.gg
smtp_password = «brevo.smtp-key»

[cache]
redis_password = «generic.secret-assignment»
ttl = 300
"""

FILES["services/api/pyproject.toml"] = """\
[tool.poetry]
name = "orders-api"
version = "2.14.0"
description = "Orders API"
authors = ["Harbor Lights <eng@harborlights.gg>"]

[tool.poetry.dependencies]
python = "^3.11"
django = "^5.0"
celery = { version = "^5.3", extras = ["redis"] }

[[tool.poetry.source]]
name = "internal"
url = "«connection-string.http-basic-auth»"
priority = "supplemental"

[tool.ruff]
line-length = 110
"""

FILES["services/api/tests/fixtures/plaid_item.json"] = """\
{
  "item_id": "«~alnum:37»",
  "access_token": "«plaid.access-token:sandbox»",
  "request_id": "«~alnum:15»",
  "institution": {"id": "ins_109508", "name": "First Platypus Bank"},
  "accounts": [
    {"account_id": "«~alnum:37»", "mask": "0000", "subtype": "checking"},
    {"account_id": "«~alnum:37»", "mask": "1111", "subtype": "savings"}
  ]
}
"""

FILES["services/payments/config.go"] = """\
package payments

import (
	"os"

	"github.com/adyen/adyen-go-api-library/v9/src/common"
	"github.com/braintree-go/braintree-go"
	"github.com/square/square-go-sdk/client"
)

// Defaults used when the environment does not say otherwise.
// FIXME: these were meant to be read from Vault.
const (
	squareAccessToken    = "«square.access-token»"
	squareAppID          = "«square.application-id»"
	squareAppSecret      = "«square.application-secret»"
	legacySquareToken    = "«square.legacy-access-token»"
	paypalClientID       = "A«~wurl:79»"
	paypalClientSecret   = "«paypal.client-secret»"
	braintreeMerchantID  = "«~lower:16»"
	braintreePublicKey   = "«~lower:16»"
	braintreePrivateKey  = "«paypal.braintree-private-key»"
	braintreeAccessToken = "«paypal.braintree-access-token»"
	razorpayKeyID        = "«razorpay.key-id»"
	razorpayKeySecret    = "«razorpay.key-secret»"
	adyenAPIKey          = "«adyen.api-key»"
	adyenClientKey       = "«adyen.client-key»"
	adyenMerchantAccount = "HarborLightsECOM"
)

func NewSquare() *client.Client {
	token := os.Getenv("SQUARE_ACCESS_TOKEN")
	if token == "" {
		token = squareAccessToken
	}
	return client.NewClient(client.WithToken(token))
}

func NewBraintree() *braintree.Braintree {
	return braintree.New(braintree.Production, braintreeMerchantID, braintreePublicKey, braintreePrivateKey)
}

func NewAdyen() *common.Config {
	return &common.Config{ApiKey: adyenAPIKey, Environment: common.LiveEnv, LiveEndpointURLPrefix: "«~hex:16»-HarborLights"}
}
"""

FILES["services/payments/shopify.go"] = """\
package payments

import "net/http"

var shopifyHeaders = map[string]string{
	"X-Shopify-Access-Token": "«shopify.access-token»",
	"Content-Type":           "application/json",
}

// Custom app installed on the wholesale store.
const wholesaleToken = "«shopify.custom-app-token»"

// Private app (deprecated by Shopify, still running on the legacy store).
const legacyStoreURL = "https://harbor-legacy.myshopify.com/admin/api/2023-10/orders.json?access_token=«shopify.private-app-password»"

const appSharedSecret = "«shopify.shared-secret»"

func newRequest(url string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range shopifyHeaders {
		req.Header.Set(k, v)
	}
	return req, nil
}
"""

FILES["services/payments/coinbase.go"] = """\
package payments

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

const (
	coinbaseCommerceAPIKey = "«coinbase-commerce.api-key»"
	coinbaseCommerceWebhookSecret = "«coinbase-commerce.webhook-secret»"
	plaidClientID = "«~hex:24»"
	plaidSecret = "«plaid.secret»"
)

// verify checks the X-CC-Webhook-Signature header.
func verify(body []byte, signature string) bool {
	mac := hmac.New(sha256.New, []byte(coinbaseCommerceWebhookSecret))
	mac.Write(body)
	expected := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
}

// Test vector from our own unit tests (SHA-256 of the empty string).
const emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
"""

FILES["services/worker/src/index.js"] = """\
'use strict';
const { MongoClient } = require('mongodb');
const { ServiceBusClient } = require('@azure/service-bus');
const LaunchDarkly = require('@launchdarkly/node-server-sdk');
const { LinearClient } = require('@linear/sdk');
const { Client: NotionClient } = require('@notionhq/client');
const Airtable = require('airtable');
const { createClient: createOnePassword } = require('@1password/sdk');

const mongo = new MongoClient(process.env.MONGO_URL || '«connection-string.mongodb»');
const bus = new ServiceBusClient('Endpoint=sb://harbor-orders.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=«azure.service-bus-key»');
const ld = LaunchDarkly.init('«launchdarkly.sdk-key»');
const linear = new LinearClient({ apiKey: '«linear.api-key»' });
const notion = new NotionClient({ auth: '«notion.integration-token»' });
const base = new Airtable({ apiKey: '«airtable.personal-access-token»' }).base('app«~alnum:14»');

async function onePassword() {
  return createOnePassword({
    auth: '«onepassword.service-account-token»',
    integrationName: 'harbor-worker',
    integrationVersion: 'v1.0.0',
  });
}

const requestIdHeader = 'x-request-id';
const jobTokenTtlSeconds = 900;
module.exports = { mongo, bus, ld, linear, notion, base, onePassword, requestIdHeader, jobTokenTtlSeconds };
"""

FILES["services/worker/src/contentful-migrate.js"] = """\
// One-off migration, run with: node contentful-migrate.js
const contentfulManagement = require('contentful-management');

const client = contentfulManagement.createClient({
  accessToken: '«contentful.personal-access-token»',
});

const LD_API = 'https://app.launchdarkly.com/api/v2/flags/default';
const headers = { Authorization: '«launchdarkly.access-token»' };

async function run() {
  const space = await client.getSpace('x7k2m9q4w1zp');
  const env = await space.getEnvironment('master');
  const entries = await env.getEntries({ content_type: 'product', limit: 1000 });
  console.log(entries.items.length, 'entries');
  const flags = await fetch(LD_API, { headers });
  console.log(await flags.json());
}

run();
"""

FILES["services/ruby/config/initializers/integrations.rb"] = """\
# frozen_string_literal: true

Intercom::Client.new(token: "«intercom.access-token»")

ZendeskAPI::Client.new do |config|
  config.url = "https://harborlights.zendesk.com/api/v2"
  config.username = "support-bot@harborlights.gg"
  config.token = "«zendesk.api-token»"
end

Rails.application.config.middleware.use OmniAuth::Builder do
  provider :gitlab, ENV["GITLAB_APP_ID"], "«gitlab.oauth-application-secret»"
  provider :github, ENV["GITHUB_CLIENT_ID"], ENV["GITHUB_CLIENT_SECRET"]
end

Mailchimp = MailchimpMarketing::Client.new
Mailchimp.set_config(api_key: "«mailchimp.api-key»", server: "us21")

MANDRILL_API_KEY = "«mailchimp.transactional-api-key»"

OKTA_CLIENT = Oktakit.new(token: "«okta.api-token»", api_endpoint: "https://harborlights.okta.com/api/v1")

Rails.application.config.session_store :cookie_store, key: "_harbor_session", expire_after: 14.days
"""

FILES["services/ruby/config/credentials.yml"] = """\
# Decrypted copy of config/credentials.yml.enc (rails credentials:show > ...)
secret_key_base: «generic.secret-assignment:hex128»

aws:
  access_key_id: «aws.access-key-id»
  secret_access_key: «aws.secret-access-key»

github:
  client_id: Iv1.«~hex:16»
  client_secret: «github.oauth-client-secret»

jira:
  site: https://harborlights.atlassian.net
  email: ops@harborlights.gg
  api_token: «atlassian.api-token»

confluence_token: «atlassian.legacy-api-token»
"""

FILES["services/ruby/app/services/notifier.rb"] = """\
require "net/http"
require "json"

class Notifier
  SLACK_TRIGGER = URI("«slack.workflow-webhook»")
  TEAMS_FLOW = URI("«microsoft-teams.workflow-webhook»")
  TWILIO_SMS = URI("https://AC«~hex:32»:«twilio.auth-token»@api.twilio.com/2010-04-01/Accounts/AC«~hex:32»/Messages.json")

  def self.deploy_finished(sha)
    payload = { text: "Deployed #{sha[0, 7]}" }.to_json
    Net::HTTP.post(SLACK_TRIGGER, payload, "Content-Type" => "application/json")
    Net::HTTP.post(TEAMS_FLOW, payload, "Content-Type" => "application/json")
  end
end
"""

FILES["services/inventory/src/main/resources/application.properties"] = """\
spring.application.name=inventory
server.port=8081

spring.datasource.url=jdbc:postgresql://inventory-db.internal:5432/inventory
spring.datasource.username=inventory
spring.datasource.password=«generic.secret-assignment»
spring.datasource.hikari.maximum-pool-size=20

spring.data.mongodb.uri=«connection-string.mongodb»
spring.rabbitmq.addresses=«connection-string.amqp»

management.newrelic.metrics.export.api-key=«newrelic.insert-key»
newrelic.license_key=«newrelic.license-key»
app.security.jwt.secret-key=«generic.secret-assignment:b64»
app.security.jwt.expiration=86400
app.ldap.password-attribute=userPassword
"""

FILES["mobile/android/app/google-services.json"] = """\
{
  "project_info": {
    "project_number": "«~digits:12»",
    "project_id": "harbor-lights-prod",
    "storage_bucket": "harbor-lights-prod.appspot.com"
  },
  "client": [
    {
      "client_info": {
        "mobilesdk_app_id": "1:«~digits:12»:android:«~hex:16»",
        "android_client_info": { "package_name": "gg.harborlights.app" }
      },
      "oauth_client": [],
      "api_key": [
        {
          "current_key": "«firebase.web-api-key»"
        }
      ],
      "services": { "appinvite_service": { "other_platform_oauth_client": [] } }
    }
  ],
  "configuration_version": "1"
}
"""

FILES["mobile/ios/HarborLights/GoogleService-Info.plist"] = """\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>API_KEY</key>
	<string>«firebase.web-api-key»</string>
	<key>GCM_SENDER_ID</key>
	<string>«~digits:12»</string>
	<key>PLIST_VERSION</key>
	<string>1</string>
	<key>BUNDLE_ID</key>
	<string>gg.harborlights.app</string>
	<key>PROJECT_ID</key>
	<string>harbor-lights-prod</string>
	<key>STORAGE_BUCKET</key>
	<string>harbor-lights-prod.appspot.com</string>
	<key>GOOGLE_APP_ID</key>
	<string>1:«~digits:12»:ios:«~hex:22»</string>
</dict>
</plist>
"""

FILES["mobile/android/app/src/main/res/values/secrets.xml"] = """\
<?xml version="1.0" encoding="utf-8"?>
<resources>
    <string name="mapbox_access_token" translatable="false">«mapbox.public-token»</string>
    <string name="mapbox_downloads_token" translatable="false">«mapbox.secret-token»</string>
    <string name="launchdarkly_mobile_key" translatable="false">«launchdarkly.mobile-key»</string>
    <string name="square_application_id" translatable="false">«square.application-id»</string>
    <string name="app_name">Harbor Lights</string>
</resources>
"""

FILES["mobile/functions/src/push.ts"] = """\
import * as functions from "firebase-functions";
import fetch from "node-fetch";

// Legacy FCM HTTP API (to be migrated to v1)
const FCM_SERVER_KEY = "«firebase.fcm-server-key»";

export const notifyOrderShipped = functions.firestore.document("orders/{id}").onUpdate(async (change) => {
  const after = change.after.data();
  if (after.status !== "shipped") return;
  await fetch("https://fcm.googleapis.com/fcm/send", {
    method: "POST",
    headers: { Authorization: `key=${FCM_SERVER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify({ to: after.pushToken, notification: { title: "Your order shipped" } }),
  });
});
"""

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
  access_key = "AKIARWISET26XQAPH3NV"
  secret_key = "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"
}

provider "digitalocean" {
  token = "dop_v1_cadc11803fbd5ebd9bf8a435bc6ceee36ac566d2a791feac697248f90ea3e7e0"
}

provider "cloudflare" {
  api_token = "cfut_kALIYF2ppxboTziEKonpHd9koWd7a3OGkwZK4Rjz8c3b981d"
}

provider "linode" {
  token = "88d690592a461b843a99d5b2053688620b4e86c1c9ff805a8455786630fd86d4"
}

provider "datadog" {
  api_key = "73c836ad79822a9ebd3216d094a8772a"
  app_key = "94c18aa43508d806628ab7b829ae1e8275e9f77c"
  api_url = "https://api.datadoghq.eu/"
}

provider "newrelic" {
  account_id = 4412907
  api_key    = "NRAK-0IY5S9RF2JS5FX16CHZRPDL4ME9"
  region     = "EU"
}

provider "heroku" {
  email   = "ops@harborlights.gg"
  api_key = "HRKU-AAgUuj9Slzb8bwDor1WeYk_oVqxxApbWBmZyCbV6BswFADFVa2UE5P5_6vWv"
}

provider "github" {
  owner = "harbor-lights"
  token = "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"
}

provider "gitlab" {
  token = "glpat-Xf9xe0Sw2NJE705Hn0AtRXJE-HI.01.re6a35ao9"
}

provider "vault" {
  address = "https://vault.harborlights.internal:8200"
  token   = "hvs.CAESIhO938oMMtgSV6drhbXu29f0LSmeV-0AXfXTf6038kbJ2p0gpaRLPzhou2NwFKc3Qej_3o6Nfld7Hwb8SyYZ-c_"
}

provider "tfe" {
  hostname = "app.terraform.io"
  token    = "0wMf1Oi8tOvzF4.atlasv1.PpT5mJkegGFqo557l54yh2B1NjKzYCFPWd5bnmnD47VYOn3XKCVi7ScPogcomKbGGUR"
}

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
  zone_id = "a005e5e8813dd85183c33c1e7d9511e1"
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

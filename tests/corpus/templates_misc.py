"""Corpus files: web3 projects, key files, notebooks, built bundles and docs."""
import json

FILES = {}

FILES["contracts/.env"] = """\
# Deployer wallet (Immutable zkEVM testnet)
PRIVATE_KEY=«evm.private-key»
MNEMONIC="«bip39.mnemonic»"
DEPLOYER_ADDRESS=«~addr»

ALCHEMY_API_KEY=«alchemy.access-token»
MAINNET_RPC_URL=«alchemy.api-key-url:eth-mainnet»
SEPOLIA_RPC_URL=«infura.api-key-url:sepolia»
INFURA_API_KEY_SECRET=«infura.api-key-secret»
POLYGON_RPC=«quicknode.endpoint-token»

ETHERSCAN_API_KEY=«etherscan.api-key»
POLYGONSCAN_API_KEY=«etherscan.api-key»

PINATA_JWT=«pinata.jwt»
PINATA_API_KEY=«generic.secret-assignment:pinata»
PINATA_SECRET_API_KEY=«pinata.api-secret»
MORALIS_API_KEY=«moralis.api-key»
THIRDWEB_SECRET_KEY=«thirdweb.secret-key»
NEXT_PUBLIC_THIRDWEB_CLIENT_ID=«thirdweb.client-id»
NEXT_PUBLIC_WALLETCONNECT_PROJECT_ID=«walletconnect.project-id»
TENDERLY_ACCESS_KEY=«tenderly.access-key»
IMMUTABLE_SECRET_API_KEY=«immutable.secret-key:test»
NFT_CONTRACT=«~addr»
"""

FILES["contracts/hardhat.config.ts"] = """\
import { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";
import * as dotenv from "dotenv";
dotenv.config();

const config: HardhatUserConfig = {
  solidity: { version: "0.8.24", settings: { optimizer: { enabled: true, runs: 200 } } },
  networks: {
    immutableZkevmTestnet: {
      url: "https://rpc.testnet.immutable.com",
      accounts: ["«evm.hardhat-accounts»", process.env.PRIVATE_KEY ?? ""],
    },
    sepolia: {
      url: "«infura.api-key-url:sepolia»",
      accounts: process.env.PRIVATE_KEY ? [process.env.PRIVATE_KEY] : [],
    },
    base: {
      url: "«alchemy.api-key-url:base-mainnet»",
      accounts: { mnemonic: process.env.MNEMONIC ?? "" },
    },
  },
  etherscan: {
    apiKey: {
      mainnet: "«etherscan.api-key»",
      base: process.env.BASESCAN_API_KEY ?? "",
    },
  },
  gasReporter: { enabled: true, currency: "USD" },
};

export default config;
"""

FILES["contracts/scripts/mint.ts"] = """\
import { ethers } from "hardhat";
import { config as immutableConfig, blockchainData } from "@imtbl/sdk";

const DEPLOYER_KEY = process.env.PRIVATE_KEY!;
const MINTER_ROLE = "0x9f2df0fed2c77648de5860a4cc508cd0818c85b8b8a1ab4ceeef8d981c8956a6";
const DEFAULT_ADMIN_ROLE = "0x0000000000000000000000000000000000000000000000000000000000000000";

async function main() {
  const provider = new ethers.JsonRpcProvider("https://rpc.testnet.immutable.com");
  const minter = new ethers.Wallet("«evm.private-key:bare»", provider);
  const recovered = ethers.Wallet.fromPhrase("«bip39.mnemonic:24»");
  const client = new blockchainData.BlockchainData({
    baseConfig: {
      environment: immutableConfig.Environment.SANDBOX,
      apiKey: "«immutable.secret-key»",
      publishableKey: "«immutable.publishable-key»",
    },
  });
  const txHash = "«~tx»";
  const receipt = await provider.getTransactionReceipt(txHash);
  console.log(receipt?.blockHash, await minter.getAddress(), recovered.address, MINTER_ROLE, DEFAULT_ADMIN_ROLE);
  await client.listCollections({ chainName: "imtbl-zkevm-testnet" });
}

main().catch((e) => { console.error(e); process.exit(1); });
"""

FILES["contracts/foundry.toml"] = """\
[profile.default]
src = "src"
out = "out"
libs = ["lib"]
solc_version = "0.8.24"
optimizer_runs = 200

[rpc_endpoints]
mainnet = "«alchemy.api-key-url:eth-mainnet»"
arbitrum = "«infura.api-key-url:arbitrum-mainnet»"
local = "http://127.0.0.1:8545"

[etherscan]
mainnet = { key = "${ETHERSCAN_API_KEY}" }
arbitrum = { key = "«etherscan.api-key»", url = "https://api.arbiscan.io/api" }
"""

FILES["contracts/Makefile"] = """\
.PHONY: deploy verify

deploy:
\tforge script script/Deploy.s.sol:Deploy --rpc-url $(RPC_URL) --broadcast --private-key «evm.private-key»

deploy-local:
\tforge script script/Deploy.s.sol:Deploy --rpc-url http://127.0.0.1:8545 --broadcast --private-key $(ANVIL_KEY)

verify:
\tforge verify-contract $(ADDRESS) src/Collection.sol:Collection --chain 1 --etherscan-api-key $(ETHERSCAN_API_KEY)
"""

FILES["contracts/deployments/mainnet.json"] = """\
{
  "Collection": {
    "address": "«~addr»",
    "transactionHash": "«~tx»",
    "blockNumber": 21877301,
    "blockHash": "«~tx»",
    "deployer": "«~addr»",
    "constructorArgs": ["Harbor Lights Genesis", "HLG", "«~addr»"],
    "bytecodeHash": "«~tx»",
    "storageLayoutHash": "«~hex:64»"
  },
  "Marketplace": {
    "address": "«~addr»",
    "transactionHash": "«~tx»",
    "implementation": "«~addr»",
    "salt": "«~tx»"
  }
}
"""

FILES["contracts/test/Collection.t.sol"] = """\
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {Collection} from "../src/Collection.sol";

contract CollectionTest is Test {
    bytes32 constant MINTER_ROLE = keccak256("MINTER_ROLE");
    bytes32 constant ROOT = 0x«~hex:64»;
    uint256 internal ownerPrivateKey = 0xA11CE;
    address internal owner = vm.addr(ownerPrivateKey);
    Collection internal c;

    function setUp() public {
        c = new Collection(owner, ROOT);
    }

    function testMint() public {
        vm.prank(owner);
        c.mint(address(0xBEEF), 1);
        assertEq(c.ownerOf(1), address(0xBEEF));
    }
}
"""

FILES["contracts/scripts/relayer.py"] = """\
from eth_account import Account
from web3 import Web3

w3 = Web3(Web3.HTTPProvider("«quicknode.endpoint-token:base-mainnet»"))
relayer = Account.from_key("«evm.private-key»")
RELAYER_ADDRESS = relayer.address
GAS_LIMIT = 250_000
"""

FILES["keys/tls/server.key"] = "«private-key.rsa»\n"

FILES["keys/tls/server.crt"] = "«~certpem»\n"

FILES["keys/tls/ec-p256.key"] = "«private-key.ec»\n"

FILES["keys/legacy/dsa_signing.key"] = "«private-key.dsa»\n"

FILES["keys/legacy/backup-rsa.key"] = "«private-key.encrypted:legacy»\n"

FILES["keys/jwt/signing.pem"] = "«private-key.pkcs8:ed25519»\n"

FILES["keys/jwt/signing.pub.pem"] = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA«~b64:43»=\n-----END PUBLIC KEY-----\n"

FILES["keys/release/release-signing.asc"] = "«private-key.pgp»\n"

FILES["keys/release/backup.p8"] = "«private-key.encrypted»\n"

FILES["keys/gcp/harbor-prod-deployer.json"] = "«gcp.service-account-key»\n"

FILES["infra/k8s/tls-secret.yaml"] = """\
apiVersion: v1
kind: Secret
metadata:
  name: ingress-tls
  namespace: prod
type: kubernetes.io/tls
stringData:
  tls.crt: |
    «~certpem:    »
  tls.key: |
    «private-key.rsa:    »
"""

FILES["services/api/.env.github-app"] = """\
GITHUB_APP_ID=918273
GITHUB_APP_PRIVATE_KEY="«private-key.pkcs8:escaped»"
GOOGLE_CLIENT_ID=«~digits:12»-«~lower:32».apps.googleusercontent.com
GOOGLE_CLIENT_SECRET=«gcp.oauth-client-secret»
"""

FILES["docs/runbooks/incident-2025-03.md"] = """\
# Incident 2025-03-14: expired Sentry token broke source map uploads

Timeline (UTC):

* 09:12 deploy `«~shortsha»` fails at `sentry-cli releases files upload-sourcemaps`.
* 09:20 Ada regenerates a user token and tests it:

  ```
  curl -H 'Authorization: Bearer «sentry.user-auth-token»' https://sentry.io/api/0/organizations/harbor-lights/projects/
  ```

* 09:31 fixed in «~sha1» (token moved to the CI secret store).

Follow-ups: rotate the token above (it was pasted here), see `docs/security.md`.
"""

FILES["docs/api.http"] = """\
### List pipelines (GitLab SCIM check)
GET https://gitlab.com/api/scim/v2/groups/harbor/Users
Authorization: Bearer «gitlab.scim-token»

### Mapbox temporary token (expires in 1 hour)
POST https://api.mapbox.com/tokens/v2/harbor?access_token={{mapboxSecretToken}}
Content-Type: application/json

{"expires": "2025-06-01T12:00:00Z", "scopes": ["styles:read"], "token": "«mapbox.temporary-token»"}

### Grafana legacy API key
GET https://grafana.harborlights.internal/api/dashboards/home
Authorization: Bearer «grafana.api-key»

### Hasura admin (service token)
POST https://graphql.harborlights.gg/v1/graphql
Authorization: Bearer «jwt.privileged»

### Internal ops API
GET https://ops.harborlights.gg/api/v1/clusters
Authorization: Bearer «jwt.privileged:roles»
"""

FILES["docs/security.md"] = """\
# Handling credentials

Never paste real keys in issues or docs. Use the placeholders below.

| Variable | Example value |
| --- | --- |
| `AWS_ACCESS_KEY_ID` | `AKIAIOSFODNN7EXAMPLE` |
| `AWS_SECRET_ACCESS_KEY` | `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY` |
| `STRIPE_SECRET_KEY` | `sk_live_xxxxxxxxxxxxxxxxxxxxxxxx` |
| `OPENAI_API_KEY` | `sk-proj-...` |
| `GITHUB_TOKEN` | `ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX` |
| `SLACK_BOT_TOKEN` | `xoxb-your-bot-token` |
| `DATABASE_URL` | `postgres://user:password@localhost:5432/db` |
| `IMMUTABLE_API_KEY` | `sk_imapik-test-<your-key>` |

Example `.env`:

```bash
STRIPE_SECRET_KEY=sk_test_your_key_here
SUPABASE_SERVICE_ROLE_KEY=<service-role-key>
PRIVATE_KEY=0x<your-private-key>
MNEMONIC="test test test test test test test test test test test junk"
JWT_SECRET=replace-me-with-a-long-random-string
SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
```

Read secrets from the environment instead:

```python
import os
api_key = os.environ["OPENAI_API_KEY"]
password = os.getenv("DB_PASSWORD")
token = settings.GITHUB_TOKEN
secret = config["stripe"]["secret_key"]
```

```js
const apiKey = process.env.OPENAI_API_KEY;
const password = import.meta.env.VITE_DB_PASSWORD;
const token = core.getInput("github-token");
const clientSecret = await secrets.get("oauth/client-secret");
```

```ruby
password = ENV.fetch("DB_PASSWORD")
api_key = Rails.application.credentials.dig(:openai, :api_key)
```

```go
token := os.Getenv("GITHUB_TOKEN")
secretKey := viper.GetString("stripe.secret_key")
```

The JWT in the jwt.io debugger is safe to paste:
`eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`

The Hardhat docs use the mnemonic `test test test test test test test test test test test junk`.
"""

FILES["docs/configuration.md"] = """\
# Configuration reference

| key | type | default | notes |
| --- | --- | --- | --- |
| `auth.token_ttl` | duration | `15m` | lifetime of access tokens |
| `auth.password_min_length` | int | `12` | |
| `auth.secret_rotation_days` | int | `90` | |
| `cache.key_prefix` | string | `orders:` | |

Set `API_KEY_HEADER=X-Api-Key` to change the header name. `TOKEN_ENDPOINT=https://auth.harborlights.gg/oauth/token`.
The default `password_hash_algorithm` is `argon2id`; `SECRET_STORE=vault`.

To verify a download, compare its checksum:

    sha256sum harbor-cli-2.14.0-linux-amd64.tar.gz
    «~sha256»  harbor-cli-2.14.0-linux-amd64.tar.gz

Commit «~sha1» introduced `token_ttl`; see also «~shortsha» and «~shortsha».
Request ids look like `req_«~alnum:24»`; trace ids like `«~hex:32»`.
"""

FILES["apps/storefront/src/i18n/en.json"] = """\
{
  "auth": {
    "password": "Password",
    "password_reset_token_expired": "This reset link has expired. Request a new one.",
    "forgot_password": "Forgot your password?",
    "api_key_label": "API key",
    "token_copied": "Token copied to clipboard",
    "secret_question": "What was the name of your first pet?"
  },
  "settings": {
    "apiKey": "Your API key",
    "accessKeyHint": "Access keys are shown once. Store them in a password manager.",
    "webhookSecretHelp": "We sign each webhook with this secret."
  }
}
"""

FILES["services/api/app/bedrock.py"] = """\
import boto3

# Long-term Bedrock API key for the summariser (expires 2026-06-30).
BEDROCK_KEY = "«aws.bedrock-api-key»"
client = boto3.client("bedrock-runtime", region_name="eu-central-1")
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"
"""

FILES["services/discord-bot/index.js"] = """\
const { Client, GatewayIntentBits } = require('discord.js');

const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages] });

client.once('ready', () => console.log(`Logged in as ${client.user.tag}`));
client.on('messageCreate', (msg) => {
  if (msg.content === '!status') msg.reply('All systems normal');
});

client.login('«discord.bot-token»');
"""

FILES["services/api/tests/fixtures/do_oauth_response.json"] = """\
{
  "access_token": "«digitalocean.oauth-token»",
  "token_type": "bearer",
  "expires_in": 2592000,
  "refresh_token": "«digitalocean.refresh-token»",
  "scope": "read write",
  "info": {"name": "Ada Dev", "email": "ada@example.org", "uuid": "«~uuid»"}
}
"""

FILES["scripts/legacy/slack_export.py"] = """\
# Export channel history with the old workspace token (pre-2021 app).
import requests

LEGACY_TOKEN = "«slack.legacy-token»"
resp = requests.get("https://slack.com/api/conversations.history", params={"channel": "C024BE91L"},
                    headers={"Authorization": f"Bearer {LEGACY_TOKEN}"}, timeout=30)
print(resp.json()["messages"][:3])
"""

FILES["services/api/app/vectors.py"] = """\
import pinecone
from together import Together

pinecone.init(api_key="«pinecone.legacy-key»", environment="us-west1-gcp")
index = pinecone.Index("products")

together_client = Together(api_key="«together.legacy-key»")
EMBED_MODEL = "togethercomputer/m2-bert-80M-8k-retrieval"
"""

FILES["ops/postmark/provision.js"] = """\
// Creates a Postmark server per environment.
const postmark = require('postmark');
const accountClient = new postmark.AccountClient('«postmark.account-token»');

async function provision(env) {
  return accountClient.createServer({ Name: `harbor-${env}`, Color: 'blue', TrackOpens: true });
}
module.exports = { provision };
"""

FILES["services/inventory/NuGet.Config"] = """\
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
    <add key="harbor" value="https://pkgs.dev.azure.com/harbor/_packaging/harbor/nuget/v3/index.json" />
  </packageSources>
  <apikeys>
    <add key="https://www.nuget.org/api/v2/package" value="«nuget.api-key»" />
  </apikeys>
</configuration>
"""

FILES["apps/storefront/public/js/signup.js"] = """\
(function () {
  var form = document.getElementById('signup');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    fetch('https://api.mailgun.net/v4/address/validate?address=' + encodeURIComponent(form.email.value), {
      headers: { Authorization: 'Basic ' + btoa('api:«mailgun.public-validation-key»') }
    }).then(function (r) { return r.json(); }).then(function (res) {
      if (res.result === 'deliverable') form.submit();
    });
  });
})();
"""

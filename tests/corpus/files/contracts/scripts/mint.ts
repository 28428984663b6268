import { ethers } from "hardhat";
import { config as immutableConfig, blockchainData } from "@imtbl/sdk";

const DEPLOYER_KEY = process.env.PRIVATE_KEY!;
const MINTER_ROLE = "0x9f2df0fed2c77648de5860a4cc508cd0818c85b8b8a1ab4ceeef8d981c8956a6";
const DEFAULT_ADMIN_ROLE = "0x0000000000000000000000000000000000000000000000000000000000000000";

async function main() {
  const provider = new ethers.JsonRpcProvider("https://rpc.testnet.immutable.com");
  const minter = new ethers.Wallet("866046e32e7e652badc465d5ac2706f62423680d005a982d6d495cdf75b702d5", provider);
  const recovered = ethers.Wallet.fromPhrase("brand daring ketchup cricket seek consider kitchen uniform hedgehog museum about coil orient ridge coffee jump alone pen shallow attack few suit captain suggest");
  const client = new blockchainData.BlockchainData({
    baseConfig: {
      environment: immutableConfig.Environment.SANDBOX,
      apiKey: "sk_imapik-7YVgtjQyUMxlKnnYa6SU_95bdfb",
      publishableKey: "pk_imapik-MsC2jwtB5FbdA1WeLImK",
    },
  });
  const txHash = "0x4b76d806a8f877bb6bd3666d88715aa25c4c830e50b6ac0c6eca5ba0b17cc516";
  const receipt = await provider.getTransactionReceipt(txHash);
  console.log(receipt?.blockHash, await minter.getAddress(), recovered.address, MINTER_ROLE, DEFAULT_ADMIN_ROLE);
  await client.listCollections({ chainName: "imtbl-zkevm-testnet" });
}

main().catch((e) => { console.error(e); process.exit(1); });

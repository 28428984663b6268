import { ethers } from "hardhat";
import { config as immutableConfig, blockchainData } from "@imtbl/sdk";

const DEPLOYER_KEY = process.env.PRIVATE_KEY!;
const MINTER_ROLE = "0x9f2df0fed2c77648de5860a4cc508cd0818c85b8b8a1ab4ceeef8d981c8956a6";
const DEFAULT_ADMIN_ROLE = "0x0000000000000000000000000000000000000000000000000000000000000000";

async function main() {
  const provider = new ethers.JsonRpcProvider("https://rpc.testnet.immutable.com");
  const minter = new ethers.Wallet("5a982d6d495cdf75b702d5306bdd60e1909206b1394cb566095bdfb9e4b9df01", provider);
  const recovered = ethers.Wallet.fromPhrase("hint plastic service clarify master occur duty oppose nation wrap evolve include deposit group immune mask protect choice smoke practice crouch hazard enemy minute");
  const client = new blockchainData.BlockchainData({
    baseConfig: {
      environment: immutableConfig.Environment.SANDBOX,
      apiKey: "sk_imapik-ROqp6QpIx9TwmwGXAg0n_66d887",
      publishableKey: "pk_imapik-2c0luRvYe9ly7iIGGRNQ",
    },
  });
  const txHash = "0xc830e50b6ac0c6eca5ba0b17cc516cd8c6382090dfba39362ac93323e5c8694d";
  const receipt = await provider.getTransactionReceipt(txHash);
  console.log(receipt?.blockHash, await minter.getAddress(), recovered.address, MINTER_ROLE, DEFAULT_ADMIN_ROLE);
  await client.listCollections({ chainName: "imtbl-zkevm-testnet" });
}

main().catch((e) => { console.error(e); process.exit(1); });

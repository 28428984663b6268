import { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";
import * as dotenv from "dotenv";
dotenv.config();

const config: HardhatUserConfig = {
  solidity: { version: "0.8.24", settings: { optimizer: { enabled: true, runs: 200 } } },
  networks: {
    immutableZkevmTestnet: {
      url: "https://rpc.testnet.immutable.com",
      accounts: ["0xd460a8a18eefcbebbc438b00eef413e616c3b3dd60844a1ba8c2692a6c7f70e9", process.env.PRIVATE_KEY ?? ""],
    },
    sepolia: {
      url: "https://sepolia.infura.io/v3/9d0b4e76ab9f6fa46421736c9ed4a8e9",
      accounts: process.env.PRIVATE_KEY ? [process.env.PRIVATE_KEY] : [],
    },
    base: {
      url: "https://base-mainnet.g.alchemy.com/v2/p673kzeal9T2Jf20n5UYdOqL6_20-1jT",
      accounts: { mnemonic: process.env.MNEMONIC ?? "" },
    },
  },
  etherscan: {
    apiKey: {
      mainnet: "GMV330I9IDK2SAEYUZNUX7N3JRWTSZAAJK",
      base: process.env.BASESCAN_API_KEY ?? "",
    },
  },
  gasReporter: { enabled: true, currency: "USD" },
};

export default config;

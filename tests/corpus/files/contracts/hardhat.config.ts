import { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";
import * as dotenv from "dotenv";
dotenv.config();

const config: HardhatUserConfig = {
  solidity: { version: "0.8.24", settings: { optimizer: { enabled: true, runs: 200 } } },
  networks: {
    immutableZkevmTestnet: {
      url: "https://rpc.testnet.immutable.com",
      accounts: ["0x4a1ba8c2692a6c7f70e99d0b4e76ab9f6fa46421736c9ed4a8e93eed26102fbd", process.env.PRIVATE_KEY ?? ""],
    },
    sepolia: {
      url: "https://sepolia.infura.io/v3/81dd3ebc0a49efddfd2b36aeed4415e9",
      accounts: process.env.PRIVATE_KEY ? [process.env.PRIVATE_KEY] : [],
    },
    base: {
      url: "https://base-mainnet.g.alchemy.com/v2/bjXOYBOVB6sJSMLYbatvIByaqz4ok5C5",
      accounts: { mnemonic: process.env.MNEMONIC ?? "" },
    },
  },
  etherscan: {
    apiKey: {
      mainnet: "MK8EWV71YINL09LUZEPAN4N7FJEHMRB1BB",
      base: process.env.BASESCAN_API_KEY ?? "",
    },
  },
  gasReporter: { enabled: true, currency: "USD" },
};

export default config;

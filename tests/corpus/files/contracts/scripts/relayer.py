from eth_account import Account
from web3 import Web3

w3 = Web3(Web3.HTTPProvider("https://granite-quiet-granite.base-mainnet.quiknode.pro/8b86e5bc81fd92a76515a7b6843f7698e04a5f0d/"))
relayer = Account.from_key("0xaec18b452b8b9c1b1beedee11060bf5b5ac7ecbbb3e3c0d0e4c5614bdd81a7a7")
RELAYER_ADDRESS = relayer.address
GAS_LIMIT = 250_000

"""LLM provider clients. Keys were pasted here during the hackathon."""
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

openai_client = OpenAI(api_key="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")
anthropic_client = anthropic.Anthropic(api_key="sk-ant-api03-3-3SbzAdTrhpeoKT8-cWVwdhJSe29VHm46XBb9_buCwdaQhha2Mly8PQaSyA8gdBNxVTHldppf_coKBEh0YfEit0dbA4cAA")
co = cohere.ClientV2("grOvaJ54TAUlvOluA5yvMtaH8n8IZ43tfi7zozIk")
mistral = Mistral(api_key="BvhaQBqaViwniiv5VIw00atQuUxNQy6r")
groq = Groq(api_key="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")
together = Together(api_key="tgp_v1_tAYhvIyx_Bo2Xz4fYXqoLrjqRSUPWf_WlmRWFj6Izzb")
replicate_client = replicate.Client(api_token="r8_k0YwBIiscckWUVHyiPKXLXEdRVwQ4Jf6g4OrC")
genai.configure(api_key="AIzaSyMJh4omY3DcK6Lj5lIDMjp-yfbCzhs23NQ")
login(token="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")

deepseek = OpenAI(api_key="sk-04f941e9a3d2405a969797e58866bcd1", base_url="https://api.deepseek.com")
grok = OpenAI(api_key="xai-CTWwXW4akgUWeGwLfGhDgZllEDVZd56CSDdgtLPsxQc8x1oNcAsCzkj5kIzD0ELbyr74G166wLEufjqK", base_url="https://api.x.ai/v1")
router = OpenAI(api_key="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", base_url="https://openrouter.ai/api/v1")
sonar = OpenAI(api_key="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", base_url="https://api.perplexity.ai")

FIREWORKS_API_KEY = "fw_bxKwyDHNjgpioMHmyWHwGkTu"
ELEVENLABS_API_KEY = "sk_13265ea8d82354cba3db519e18306031e62c31abd68c0e5e"
os.environ["LANGSMITH_API_KEY"] = "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"
os.environ["LANGSMITH_TRACING"] = "true"

PINECONE_API_KEY = "pcsk_rTKjL_1RSEirQnxqWl8tByENw4g5mrodBFriobeXDFpTz1QndcGQexHELvkzu62EiksWsV"
EMBEDDING_MODEL = "text-embedding-3-small"
MAX_TOKENS = 4096

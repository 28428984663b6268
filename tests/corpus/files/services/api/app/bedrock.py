import boto3

# Long-term Bedrock API key for the summariser (expires 2026-06-30).
BEDROCK_KEY = "ABSKQmVkcm9ja0FQSUtleS03enEzLWF0LTc5NTAwMzkyNzY2NDpMMGdDK293T2d3NzU0NERQVW5SR3I2QVNaem11aXNVUGdSMkI0OHBOeFlnPQ=="
client = boto3.client("bedrock-runtime", region_name="eu-central-1")
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"

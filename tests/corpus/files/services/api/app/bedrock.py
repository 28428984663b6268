import boto3

# Long-term Bedrock API key for the summariser (expires 2026-06-30).
BEDROCK_KEY = "ABSKQmVkcm9ja0FQSUtleS1hY25sLWF0LTc2NjQ4NjM3ODQ0MTorZU9BejFKMFJxK2dFbWM1cm9yRkQ0RWRnZVBLVGNXSWhheGxRWFJ4blZNPQ=="
client = boto3.client("bedrock-runtime", region_name="eu-central-1")
MODEL_ID = "anthropic.claude-3-5-sonnet-20240620-v1:0"

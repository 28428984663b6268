import pinecone
from together import Together

pinecone.init(api_key="fa7ffe94-81ba-48b8-96c1-3f1bb4129076", environment="us-west1-gcp")
index = pinecone.Index("products")

together_client = Together(api_key="b57b8a39e008b4e56ac1eb3a58c17f21e66e87cda09f2addc82128492a6f924a")
EMBED_MODEL = "togethercomputer/m2-bert-80M-8k-retrieval"

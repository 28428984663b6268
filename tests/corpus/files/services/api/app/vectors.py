import pinecone
from together import Together

pinecone.init(api_key="81baf8b8-46c1-4f1b-a412-90765b57b8a3", environment="us-west1-gcp")
index = pinecone.Index("products")

together_client = Together(api_key="e008b4e56ac1eb3a58c17f21e66e87cda09f2addc82128492a6f924ad31cec9f")
EMBED_MODEL = "togethercomputer/m2-bert-80M-8k-retrieval"

import algoliasearch from "algoliasearch/lite";

// The search-only key is fine in the browser (ACL: search).
export const searchClient = algoliasearch("K7QH2MZ4PD", process.env.NEXT_PUBLIC_ALGOLIA_SEARCH_KEY!);
export const INDEX_NAME = "products_prod";
export const CACHE_KEY = "algolia-cache-v2";

package payments

import "net/http"

var shopifyHeaders = map[string]string{
	"X-Shopify-Access-Token": "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",
	"Content-Type":           "application/json",
}

// Custom app installed on the wholesale store.
const wholesaleToken = "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"

// Private app (deprecated by Shopify, still running on the legacy store).
const legacyStoreURL = "https://harbor-legacy.myshopify.com/admin/api/2023-10/orders.json?access_token=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"

const appSharedSecret = "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"

func newRequest(url string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range shopifyHeaders {
		req.Header.Set(k, v)
	}
	return req, nil
}

package payments

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

const (
	coinbaseCommerceAPIKey = "e71aba26-568c-416c-b12d-118cf5646403"
	coinbaseCommerceWebhookSecret = "1298d163-fa0e-4ef7-88be-c3f74c73a52e"
	plaidClientID = "2432278499c875e9393e162e"
	plaidSecret = "169c18f373fe3c11830980cda86225"
)

// verify checks the X-CC-Webhook-Signature header.
func verify(body []byte, signature string) bool {
	mac := hmac.New(sha256.New, []byte(coinbaseCommerceWebhookSecret))
	mac.Write(body)
	expected := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(expected), []byte(signature))
}

// Test vector from our own unit tests (SHA-256 of the empty string).
const emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

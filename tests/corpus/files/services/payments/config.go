package payments

import (
	"os"

	"github.com/adyen/adyen-go-api-library/v9/src/common"
	"github.com/braintree-go/braintree-go"
	"github.com/square/square-go-sdk/client"
)

// Defaults used when the environment does not say otherwise.
// FIXME: these were meant to be read from Vault.
const (
	squareAccessToken    = "EAAACrPGI_SOnvcipfdBdgKc8Z1msT9apIpEoqli21VVgtsuqDbsnafbFBvxER_G"
	squareAppID          = "sq0idp-T9bbBHQcm6FSoKmqFTcXSD"
	squareAppSecret      = "sq0csp-RvfqEcNBl0sPpnjc47vchBd1JAkWF0eo5g1x_t9MQuw"
	legacySquareToken    = "sq0atp-1uxTocSmFpHTwQb_1i_Pc7"
	paypalClientID       = "AlBU-QU2z_nmtqVtdwgDz3I1kwPjQ2mNiTL9FLC1oSf6RYhflaybYVenygSuhmivwkVcO11iPlYMOkTl"
	paypalClientSecret   = "E_aGd4VER7L5P-SjNQyXjgsESK7xfzxFNU6f7QsRHuCSskY6z27RCu9LA0T66vrHonDRunb-jsfuGg5Z"
	braintreeMerchantID  = "i31y1kabsfj1ybtx"
	braintreePublicKey   = "dgq79ii5icr1gp6h"
	braintreePrivateKey  = "17de37cbf5cc7cbfb1a2cbaabf88d594"
	braintreeAccessToken = "access_token$production$h7x63jfsmkskmhsj$3a3ce0c3b702725941d378ae235879d2"
	razorpayKeyID        = "rzp_live_XCkmbdxO9JRqJU"
	razorpayKeySecret    = "TJiyhXwgvCqtEAm4AbTKDxv7"
	adyenAPIKey          = "AQEEJ+4MyanpbIaWCI2Um2MNVExS/YaA8jhaFqxVOqKYX1T0M2QbqR6zoZ4DuL3Bp5VrF51e6LLjy242XPv1yE=-vJ0Ifo0WVm1webZGwotmqrnF0IfsagZm+IauHuhddTt=-BlJ&vG%LDqrUL"
	adyenClientKey       = "live_RPIZ7INACRJ80UD8P9QWT8A9KEY2EHJQ"
	adyenMerchantAccount = "HarborLightsECOM"
)

func NewSquare() *client.Client {
	token := os.Getenv("SQUARE_ACCESS_TOKEN")
	if token == "" {
		token = squareAccessToken
	}
	return client.NewClient(client.WithToken(token))
}

func NewBraintree() *braintree.Braintree {
	return braintree.New(braintree.Production, braintreeMerchantID, braintreePublicKey, braintreePrivateKey)
}

func NewAdyen() *common.Config {
	return &common.Config{ApiKey: adyenAPIKey, Environment: common.LiveEnv, LiveEndpointURLPrefix: "c0827e1307f915a9-HarborLights"}
}

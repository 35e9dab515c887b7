package shopify

import (
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parrain/parrain/app"
)

// SessionClaims are the claims of an App Bridge or UI-extension session token
// (shopify-app-js lib/session/types.ts JwtPayload).
type SessionClaims struct {
	Dest string `json:"dest"`
	SID  string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// SessionLeeway tolerates clock skew on exp and nbf, as the reference
// implementations do (shopify-app-js decode-session-token.ts).
const SessionLeeway = 10 * time.Second

// VerifySessionToken checks an HS256 session token signed with the app's
// secret: algorithm, signature, exp/nbf with leeway and, when checkAudience is
// true, aud == apiKey (checkout-extension tokens are verified without the
// audience check, like the official server code does). It returns the shop
// taken from dest and the claims.
func VerifySessionToken(token, apiKey, apiSecret string, checkAudience bool, now time.Time) (string, *SessionClaims, error) {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithLeeway(SessionLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
	}
	if checkAudience {
		opts = append(opts, jwt.WithAudience(apiKey))
	}
	claims := &SessionClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(apiSecret), nil }, opts...)
	if err != nil {
		return "", nil, app.Wrap(app.EUNAUTHORIZED, err, "invalid session token")
	}
	shop, err := NormalizeShop(strings.TrimPrefix(claims.Dest, "https://"))
	if err != nil {
		return "", nil, app.Errorf(app.EUNAUTHORIZED, "invalid session token: dest is not a shop")
	}
	// iss is the shop's admin (https://{shop}/admin). Shopify never issues
	// a token whose issuer and destination are two shops; one that does
	// was not minted for this shop's session (decode-session-token.ts
	// takes the shop from dest, the Ruby library checks both agree).
	if claims.Issuer != "" {
		iss, err := NormalizeShop(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(claims.Issuer, "https://"), "/"), "/admin"))
		if err != nil || iss != shop {
			return "", nil, app.Errorf(app.EUNAUTHORIZED, "invalid session token: iss and dest name different shops")
		}
	}
	return shop, claims, nil
}

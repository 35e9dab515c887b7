package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/parrain/parrain/app"
)

// TokenClient talks to Shopify's token endpoint
// (POST https://{shop}/admin/oauth/access_token). go-shopify's GetAccessToken
// cannot ask for an expiring offline token nor return a refresh token, and has
// no refresh or token-exchange grant, hence this small client
// (shopify-app-js lib/auth/oauth/{oauth,refresh-token,token-exchange}.ts).
type TokenClient struct {
	APIKey    string
	APISecret string
	Origin    Origin
	HTTP      *http.Client
	Now       func() time.Time
}

// NewTokenClient returns a client with a 10 s timeout that honours origin.
func NewTokenClient(apiKey, apiSecret string, origin Origin) *TokenClient {
	return &TokenClient{
		APIKey: apiKey, APISecret: apiSecret, Origin: origin,
		HTTP: &http.Client{Timeout: 10 * time.Second, Transport: origin.Transport(nil)},
		Now:  time.Now,
	}
}

type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	Scope                 string `json:"scope"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
}

// Grant types and token types of the token-exchange grant
// (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange).
const (
	grantRefresh       = "refresh_token"
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken   = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOffline   = "urn:shopify:params:oauth:token-type:offline-access-token"
)

// ExchangeCode trades an authorization code for an expiring offline token.
func (c *TokenClient) ExchangeCode(ctx context.Context, shop, code string) (app.Credentials, error) {
	return c.post(ctx, shop, map[string]string{"code": code, "expiring": "1"})
}

// Refresh trades a refresh token for a new access token and a new refresh
// token (Shopify rotates it on every use).
func (c *TokenClient) Refresh(ctx context.Context, shop, refreshToken string) (app.Credentials, error) {
	return c.post(ctx, shop, map[string]string{"grant_type": grantRefresh, "refresh_token": refreshToken})
}

// ExchangeSessionToken trades an App Bridge session token for an expiring
// offline token (managed install).
func (c *TokenClient) ExchangeSessionToken(ctx context.Context, shop, sessionToken string) (app.Credentials, error) {
	return c.post(ctx, shop, map[string]string{
		"grant_type": grantTokenExchange, "subject_token": sessionToken,
		"subject_token_type": tokenTypeIDToken, "requested_token_type": tokenTypeOffline, "expiring": "1",
	})
}

func (c *TokenClient) post(ctx context.Context, shop string, fields map[string]string) (app.Credentials, error) {
	body := map[string]string{"client_id": c.APIKey, "client_secret": c.APISecret}
	for k, v := range fields {
		body[k] = v
	}
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+shop+"/admin/oauth/access_token", bytes.NewReader(raw))
	if err != nil {
		return app.Credentials{}, fmt.Errorf("token request for %s: %w", shop, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	now := c.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return app.Credentials{}, app.Wrap(app.EUNAVAILABLE, fmt.Errorf("token request for %s: %w", shop, err), "Shopify unreachable")
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return app.Credentials{}, app.Wrap(app.EUNAVAILABLE, fmt.Errorf("token endpoint for %s: HTTP %d", shop, resp.StatusCode), "Shopify is busy, retry later")
	case resp.StatusCode != http.StatusOK:
		// Shopify's body names the OAuth error (invalid_grant, ...); it
		// carries no secret, so it is safe to keep for support.
		return app.Credentials{}, app.Wrap(app.EUNAUTHORIZED, fmt.Errorf("token endpoint for %s: HTTP %d: %s", shop, resp.StatusCode, truncate(data, 300)), "Shopify refused the grant")
	}
	var tr tokenResponse
	if err := json.Unmarshal(data, &tr); err != nil || tr.AccessToken == "" {
		return app.Credentials{}, fmt.Errorf("token endpoint for %s: malformed response", shop)
	}
	creds := app.Credentials{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Scopes: tr.Scope}
	if tr.ExpiresIn > 0 {
		creds.AccessExpiresAt = now.Add(time.Duration(tr.ExpiresIn) * time.Second).UTC()
	}
	if tr.RefreshToken != "" && tr.RefreshTokenExpiresIn > 0 {
		creds.RefreshExpiresAt = now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second).UTC()
	}
	return creds, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

package woocommerce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"
	"time"
)

// RFC 5849 §3.4.1.1's example: the base string of a request with repeated,
// empty and already-encoded parameters.
func TestBaseStringRFC5849(t *testing.T) {
	u, _ := url.Parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b")
	params := u.Query()
	for k, v := range map[string]string{"oauth_consumer_key": "9djdj82h48djs9d2", "oauth_token": "kkk9d7dh3k39sjv7",
		"oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "137131201", "oauth_nonce": "7d8f3e4a"} {
		params.Set(k, v)
	}
	params.Add("c2", "")
	params.Add("a3", "2 q")
	const want = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	if got := baseString("POST", u, params); got != want {
		t.Fatalf("base string\n got %s\nwant %s", got, want)
	}
}

func TestSignOAuth1(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:8081/wp-json/wc/v3/orders?per_page=100&modified_after=2026-01-01T00:00:00")
	signed := signWith("GET", u, "ck_test", "cs_te st", time.Unix(1_800_000_000, 0), "abc")
	q := signed.Query()
	if q.Get("oauth_signature_method") != "HMAC-SHA256" || q.Get("per_page") != "100" || q.Get("oauth_timestamp") != "1800000000" {
		t.Fatalf("query: %v", q)
	}
	sig := q.Get("oauth_signature")
	q.Del("oauth_signature")
	m := hmac.New(sha256.New, []byte("cs_te%20st&"))
	m.Write([]byte(baseString("GET", u, q)))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); sig != want {
		t.Fatalf("signature %s, want %s", sig, want)
	}
	other := signWith("GET", u, "ck_test", "cs_other", time.Unix(1_800_000_000, 0), "abc")
	if other.Query().Get("oauth_signature") == sig {
		t.Fatal("the secret does not change the signature")
	}
}

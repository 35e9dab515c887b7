package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

func env(m map[string]string) Getenv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func base() map[string]string {
	return map[string]string{
		"SHOPIFY_API_KEY":    "key",
		"SHOPIFY_API_SECRET": "secret",
		"ENCRYPTION_KEY":     "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	if c.AppURL.String() != "http://127.0.0.1:8080" || c.ListenAddr != ":8080" || c.ShopifyAPIOrigin != nil || c.WooAllowPrivateStores {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.Keyring.ActiveKeyID() != "k1" {
		t.Fatalf("keyring active = %q", c.Keyring.ActiveKeyID())
	}
}

func TestLoadRefusesWithOneClearLine(t *testing.T) {
	cases := []struct {
		name, key, value, want string
	}{
		{"missing secret", "SHOPIFY_API_SECRET", "", "SHOPIFY_API_SECRET: required"},
		{"missing key", "ENCRYPTION_KEY", "", "ENCRYPTION_KEY: required"},
		{"bad key", "ENCRYPTION_KEY", "k1:abcd", "ENCRYPTION_KEY: key \"k1\": want 32 bytes"},
		{"bad app url", "APP_URL", "ftp://x", "APP_URL: want an absolute http(s) URL"},
		{"relative origin", "SHOPIFY_API_ORIGIN", "localhost:8090", "SHOPIFY_API_ORIGIN"},
		{"bad db url", "DATABASE_URL", "mysql://x", "DATABASE_URL"},
		{"bad redis url", "REDIS_URL", "127.0.0.1:6379", "REDIS_URL"},
		{"bad int", "WORKER_CONCURRENCY", "lots", "WORKER_CONCURRENCY: want an integer"},
		{"bad duration", "SHUTDOWN_TIMEOUT", "-3s", "SHUTDOWN_TIMEOUT"},
		{"bad level", "LOG_LEVEL", "loud", "LOG_LEVEL"},
		{"bad bool", "WOOCOMMERCE_ALLOW_PRIVATE_STORES", "sure", "WOOCOMMERCE_ALLOW_PRIVATE_STORES: want true or false"},
		{"smtp scheme", "SMTP_URL", "http://mail.example.com", "SMTP_URL: want an smtp:// or smtps:// URL"},
		{"smtp port", "SMTP_URL", "smtp://mail.example.com:99999", "SMTP_URL: port"},
		{"smtp tls", "SMTP_URL", "smtp://mail.example.com?tls=maybe", "SMTP_URL: tls="},
		{"smtp clear password", "SMTP_URL", "smtp://u:hunter2@mail.example.com?tls=none", "SMTP_URL: a password would cross the network in clear"},
		{"smtp no host", "SMTP_URL", "smtp://", "SMTP_URL: the URL names no host"},
		{"email from with name", "EMAIL_FROM", "Shop <a@b.c>", "EMAIL_FROM: want a bare address"},
		{"email from junk", "EMAIL_FROM", "nobody", "EMAIL_FROM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			m[tc.key] = tc.value
			_, err := Load(env(m))
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %q, want one line containing %q", err, tc.want)
			}
		})
	}
}

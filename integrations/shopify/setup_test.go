package shopify

import "testing"

func TestAppEmbedEnabled(t *testing.T) {
	const comment = "/*\n * IMPORTANT: The contents of this file are auto-generated.\n */\n"
	const ours = "shopify://apps/parrain/blocks/app-embed/5f1c2a9e"
	for _, c := range []struct {
		name, data string
		on, found  bool
		err        bool
	}{
		{"on, behind Shopify's comment", comment + `{"current":{"blocks":{"1":{"type":"` + ours + `","disabled":false}}}}`, true, true, false},
		{"no disabled flag is on", `{"current":{"blocks":{"1":{"type":"` + ours + `"}}}}`, true, true, false},
		{"switched off", `{"current":{"blocks":{"1":{"type":"` + ours + `","disabled":true}}}}`, false, true, false},
		{"another app's embed", `{"current":{"blocks":{"1":{"type":"shopify://apps/other/blocks/app-embed-x/9","disabled":false}}}}`, false, false, false},
		{"another block of ours", `{"current":{"blocks":{"1":{"type":"shopify://apps/parrain/blocks/stars/5f1c","disabled":false}}}}`, false, false, false},
		{"no blocks", comment + `{"current":{"sections":{}}}`, false, false, false},
		{"current names a preset", `{"current":"Default","presets":{"Default":{}}}`, false, false, false},
		{"unterminated comment", "/* oops", false, false, true},
		{"not JSON", comment + "{", false, false, true},
	} {
		on, found, err := AppEmbedEnabled(c.data, EmbedBlock)
		if on != c.on || found != c.found || (err != nil) != c.err {
			t.Errorf("%s: on=%v found=%v err=%v, want %v %v %v", c.name, on, found, err, c.on, c.found, c.err)
		}
	}
}

package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/parrain/parrain/app"
)

var _ app.StoreSetup = (*Store)(nil)

// EmbedBlock is the handle of Parrain's theme app embed
// (widget/shopify/extensions/parrain-embed/blocks/app-embed.liquid).
const EmbedBlock = "app-embed"

// themeSettings reads the published theme's config/settings_data.json,
// where the theme editor records app embed blocks (read_themes scope;
// https://shopify.dev/docs/apps/build/online-store/theme-app-extensions/configuration,
// "Detecting app blocks and app embed blocks").
const themeSettings = `query ParrainThemeSettings {
  themes(first: 1, roles: [MAIN]) { nodes { id name files(filenames: ["config/settings_data.json"], first: 1) { nodes { filename body { ... on OnlineStoreThemeFileBodyText { content } } } } } }
}`

type themeSettingsOut struct {
	Themes struct {
		Nodes []struct {
			Name  string `json:"name"`
			Files struct {
				Nodes []struct {
					Filename string `json:"filename"`
					Body     struct {
						Content string `json:"content"`
					} `json:"body"`
				} `json:"nodes"`
			} `json:"files"`
		} `json:"nodes"`
	} `json:"themes"`
}

// SetupChecks implements app.StoreSetup: whether the app embed is on in the
// published theme (read from the theme), and where the merchant places the
// thank-you block (the checkout editor, which no Admin API reads: the
// console learns it when the block first asks for a popup).
func (s *Store) SetupChecks(ctx context.Context, shop *app.Shop) ([]app.SetupCheck, error) {
	admin := "https://" + shop.Domain + "/admin"
	embed := app.SetupCheck{Key: app.SetupAppEmbed,
		// The theme editor's deep link that opens the App embeds panel
		// with Parrain's embed switched on, ready to save.
		FixURL: admin + "/themes/current/editor?context=apps&activateAppId=" + url.QueryEscape(s.APIKey+"/"+EmbedBlock)}
	state, detail, err := s.appEmbedState(ctx, shop)
	if err != nil {
		embed.State, embed.Detail = app.SetupUnknown, "Parrain could not read your theme: "+err.Error()
	} else {
		embed.State, embed.Detail = state, detail
	}
	thankYou := app.SetupCheck{Key: app.SetupThankYouBlock, State: app.SetupUnknown,
		Detail: "Shopify does not tell apps where checkout blocks are placed; this turns done when the block first shows on an order confirmation page.",
		FixURL: admin + "/settings/checkout"}
	return []app.SetupCheck{embed, thankYou}, nil
}

func (s *Store) appEmbedState(ctx context.Context, shop *app.Shop) (string, string, error) {
	token, err := s.token(ctx, shop)
	if err != nil {
		return "", "", err
	}
	var out themeSettingsOut
	if err := s.Admin.query(ctx, shop.Domain, token, call{op: "theme-settings", cost: 4, q: themeSettings}, &out); err != nil {
		if strings.Contains(err.Error(), "read_themes") {
			return "", "", fmt.Errorf("the app was not granted read_themes; reinstall it to grant the access")
		}
		return "", "", fmt.Errorf("themes: %w", err)
	}
	if len(out.Themes.Nodes) == 0 {
		return app.SetupTodo, "Your store has no published theme.", nil
	}
	th := out.Themes.Nodes[0]
	if len(th.Files.Nodes) == 0 {
		return app.SetupTodo, fmt.Sprintf("Your published theme %q has no theme settings yet.", th.Name), nil
	}
	on, found, err := AppEmbedEnabled(th.Files.Nodes[0].Body.Content, EmbedBlock)
	switch {
	case err != nil:
		return "", "", err
	case on:
		return app.SetupDone, fmt.Sprintf("On in your published theme %q.", th.Name), nil
	case found:
		return app.SetupTodo, fmt.Sprintf("Switched off in your published theme %q.", th.Name), nil
	}
	return app.SetupTodo, fmt.Sprintf("Not added to your published theme %q yet.", th.Name), nil
}

// AppEmbedEnabled reads a theme's settings_data.json: found when a block of
// current.blocks is an app's block with the handle, on when such a block is
// not disabled. Shopify writes the file with a leading /* … */ comment.
func AppEmbedEnabled(settingsData, handle string) (on, found bool, err error) {
	body := strings.TrimSpace(settingsData)
	if strings.HasPrefix(body, "/*") {
		end := strings.Index(body, "*/")
		if end < 0 {
			return false, false, fmt.Errorf("settings_data.json: unterminated comment")
		}
		body = body[end+2:]
	}
	var doc struct {
		Current json.RawMessage `json:"current"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return false, false, fmt.Errorf("settings_data.json: %w", err)
	}
	// current is an object, or the name of a preset (older themes).
	var cur struct {
		Blocks map[string]struct {
			Type     string `json:"type"`
			Disabled bool   `json:"disabled"`
		} `json:"blocks"`
	}
	_ = json.Unmarshal(doc.Current, &cur)
	for _, b := range cur.Blocks {
		rest, ok := strings.CutPrefix(b.Type, "shopify://apps/")
		if !ok {
			continue
		}
		// {app handle}/blocks/{block handle}/{extension uuid}
		parts := strings.Split(rest, "/")
		if len(parts) == 4 && parts[1] == "blocks" && parts[2] == handle {
			found = true
			on = on || !b.Disabled
		}
	}
	return on, found, nil
}

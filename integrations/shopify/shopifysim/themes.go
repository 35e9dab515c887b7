package shopifysim

import (
	"encoding/json"
	"fmt"
)

// The shop's published theme, as far as the app's setup checklist reads it:
// themes(roles: [MAIN]) and the theme's config/settings_data.json, where
// the theme editor records app embed blocks under current.blocks, each with
// its type "shopify://apps/{app}/blocks/{block}/{extension uuid}" and a
// "disabled" flag (https://shopify.dev/docs/apps/build/online-store/theme-app-extensions/configuration,
// "Detecting app blocks and app embed blocks"). Shopify writes the file
// with a leading /* … */ comment, kept here because a reader must cope
// with it. The simulator's theme holds that one file only, so files(...)
// answers it whatever filenames are asked.

const settingsDataComment = "/*\n * ------------------------------------------------------------\n * IMPORTANT: The contents of this file are auto-generated.\n * ------------------------------------------------------------\n */\n"

// AppEmbedType is the block type the theme editor gives Parrain's app embed
// (widget/shopify/extensions/parrain-embed/blocks/app-embed.liquid).
const AppEmbedType = "shopify://apps/parrain/blocks/app-embed/5f1c2a9e-7b1d-4c3e-9a55-2d7e0b6c1a11"

type theme struct {
	id       int64
	settings string // config/settings_data.json
}

func defaultTheme(id int64) *theme {
	return &theme{id: id, settings: settingsDataComment + `{"current":{"sections":{},"content_for_index":[]},"presets":{"Default":{}}}`}
}

// SetAppEmbed writes the published theme's settings_data.json as the theme
// editor does when the merchant switches Parrain's app embed on or off
// (present tells whether the block is in the file at all: the editor adds
// it the first time the merchant opens the app embeds panel with the app).
func (s *Simulator) SetAppEmbed(domain string, present, enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shops[domain]
	if sh == nil {
		return
	}
	blocks := map[string]any{}
	if present {
		blocks["17342837408123456789"] = map[string]any{"type": AppEmbedType, "disabled": !enabled, "settings": map[string]any{}}
	}
	b, _ := json.Marshal(map[string]any{"current": map[string]any{"sections": map[string]any{}, "blocks": blocks}})
	sh.themeOf().settings = settingsDataComment + string(b)
}

func (sh *shop) themeOf() *theme {
	if sh.theme == nil {
		sh.theme = defaultTheme(sh.info.ID*10 + 1)
	}
	return sh.theme
}

// listThemes is themes(roles:, first:): the published (MAIN) theme.
func (s *Simulator) listThemes(sh *shop, args map[string]any) (any, int, *gqlError) {
	if roles, ok := args["roles"].([]any); ok && len(roles) > 0 {
		main := false
		for _, r := range roles {
			main = main || r == "MAIN"
		}
		if !main {
			return connection("OnlineStoreTheme", nil, idCursor, false), 1, nil
		}
	}
	th := sh.themeOf()
	file := map[string]any{"__typename": "OnlineStoreThemeFile", "filename": "config/settings_data.json", "size": fmt.Sprint(len(th.settings)),
		"body": map[string]any{"__typename": "OnlineStoreThemeFileBodyText", "content": th.settings}}
	node := map[string]any{"__typename": "OnlineStoreTheme", "id": gid("OnlineStoreTheme", th.id), "name": "Dawn", "role": "MAIN",
		"files": connection("OnlineStoreThemeFile", []map[string]any{file}, func(map[string]any) string { return "config/settings_data.json" }, false)}
	return connection("OnlineStoreTheme", []map[string]any{node}, idCursor, false), 1, nil
}

-- +goose Up
-- What the shopper's popup looks like and says, per program.
ALTER TABLE programs
    ADD COLUMN widget_enabled    boolean NOT NULL DEFAULT true,
    -- 'auto' follows the shopper's page/browser language.
    ADD COLUMN widget_language   text    NOT NULL DEFAULT 'auto' CHECK (widget_language IN ('auto', 'en', 'fr')),
    -- Merchant overrides of the built-in texts: {"en": {"title": "…"}, "fr": {…}}.
    ADD COLUMN widget_texts      jsonb   NOT NULL DEFAULT '{}',
    ADD COLUMN widget_accent     text    NOT NULL DEFAULT '#1f6f5c' CHECK (widget_accent ~ '^#[0-9a-fA-F]{6}$'),
    ADD COLUMN widget_background text    NOT NULL DEFAULT '#ffffff' CHECK (widget_background ~ '^#[0-9a-fA-F]{6}$'),
    ADD COLUMN widget_text_color text    NOT NULL DEFAULT '#1a1a1a' CHECK (widget_text_color ~ '^#[0-9a-fA-F]{6}$'),
    ADD COLUMN widget_position   text    NOT NULL DEFAULT 'center' CHECK (widget_position IN ('center', 'bottom-right', 'bottom-left')),
    -- Days a shopper who closed the popup is not asked again.
    ADD COLUMN widget_cap_days   integer NOT NULL DEFAULT 30 CHECK (widget_cap_days BETWEEN 0 AND 365),
    ADD COLUMN widget_launcher   boolean NOT NULL DEFAULT false;


-- +goose Down
ALTER TABLE programs
    DROP COLUMN widget_enabled, DROP COLUMN widget_language, DROP COLUMN widget_texts,
    DROP COLUMN widget_accent, DROP COLUMN widget_background, DROP COLUMN widget_text_color,
    DROP COLUMN widget_position, DROP COLUMN widget_cap_days, DROP COLUMN widget_launcher;

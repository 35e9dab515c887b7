<?php
/**
 * Plugin Name:       Parrain referrals
 * Description:       Connects a WooCommerce store to Parrain: the "share and earn" popup on the order-received page, referral links kept until checkout, the friend's coupon applied from the link.
 * Version:           0.1.0
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * Requires Plugins:  woocommerce
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       parrain
 *
 * Tiny on purpose: everything else happens in Parrain. The widget API checks
 * the order key with the store before it shows anyone a link.
 */

defined( 'ABSPATH' ) || exit;

const PARRAIN_OPTION     = 'parrain_app_url';
const PARRAIN_COOKIE     = 'parrain_ref';
const PARRAIN_COOKIE_TTL = 30 * DAY_IN_SECONDS;

/** The Parrain address the merchant set, without a trailing slash. */
function parrain_app_url() {
	return untrailingslashit( (string) get_option( PARRAIN_OPTION, '' ) );
}

/** A referral code as Parrain writes them: letters, digits, dashes. */
function parrain_clean_code( $raw ) {
	$code = strtoupper( preg_replace( '/[^A-Za-z0-9-]/', '', (string) $raw ) );
	return ( strlen( $code ) >= 3 && strlen( $code ) <= 40 ) ? $code : '';
}

/** The store as Parrain knows it: host and folder of the home URL. */
function parrain_shop_id() {
	$home = wp_parse_url( home_url() );
	return strtolower( ( $home['host'] ?? '' ) . ( isset( $home['port'] ) ? ':' . $home['port'] : '' ) . untrailingslashit( $home['path'] ?? '' ) );
}

/*
 * Any page: a landing with ?ref=CODE keeps the code in a first-party cookie,
 * so the order made days later still knows who referred it.
 */
add_action(
	'init',
	function () {
		if ( ! isset( $_GET['ref'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a public link, nothing changes.
			return;
		}
		$code = parrain_clean_code( wp_unslash( $_GET['ref'] ) ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		if ( '' === $code || headers_sent() ) {
			return;
		}
		setcookie(
			PARRAIN_COOKIE,
			$code,
			array(
				'expires'  => time() + PARRAIN_COOKIE_TTL,
				'path'     => COOKIEPATH ? COOKIEPATH : '/',
				'domain'   => COOKIE_DOMAIN,
				'secure'   => is_ssl(),
				'httponly' => true,
				'samesite' => 'Lax',
			)
		);
		$_COOKIE[ PARRAIN_COOKIE ] = $code;
	}
);

/*
 * A referral link lands on the store with ?parrain_coupon=FRIEND-…: the
 * friend's coupon goes into the cart on that first page view, so the
 * discount is there at checkout without typing it. After WooCommerce
 * loaded the cart from the session (wp_loaded); a shopper without a session
 * yet gets one, or the cart would be forgotten on the next page. A coupon
 * the store refuses (expired, unknown) is not applied, and WooCommerce
 * shows its own notice.
 */
add_action(
	'wp_loaded',
	function () {
		if ( ! isset( $_GET['parrain_coupon'] ) || is_admin() || wp_doing_ajax() ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a public link; applying a coupon is what the shopper would do.
			return;
		}
		$code = parrain_clean_code( wp_unslash( $_GET['parrain_coupon'] ) ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		if ( '' === $code || ! function_exists( 'WC' ) || null === WC()->cart || null === WC()->session ) {
			return;
		}
		if ( ! WC()->session->has_session() ) {
			WC()->session->set_customer_session_cookie( true );
		}
		if ( ! WC()->cart->has_discount( wc_format_coupon_code( $code ) ) ) {
			WC()->cart->apply_coupon( $code );
		}
	},
	20
);

/** Copies the kept code into the order's _parrain_ref meta. */
function parrain_tag_order( $order ) {
	if ( ! $order instanceof WC_Order || empty( $_COOKIE[ PARRAIN_COOKIE ] ) ) {
		return;
	}
	$code = parrain_clean_code( wp_unslash( $_COOKIE[ PARRAIN_COOKIE ] ) );
	if ( '' !== $code ) {
		$order->update_meta_data( '_parrain_ref', $code );
	}
}
// Classic checkout, before the order is saved.
add_action( 'woocommerce_checkout_create_order', 'parrain_tag_order', 10, 1 );
// Block checkout (Store API), before the order is saved.
add_action( 'woocommerce_store_api_checkout_update_order_meta', 'parrain_tag_order', 10, 1 );

/*
 * Order-received page: the popup, given the order id and its key; Parrain
 * shows the buyer's link only if the key matches the order it has.
 */
add_action(
	'woocommerce_thankyou',
	function ( $order_id ) {
		$app   = parrain_app_url();
		$order = wc_get_order( $order_id );
		if ( '' === $app || ! $order ) {
			return;
		}
		printf(
			'<script async src="%s" data-platform="woocommerce" data-shop="%s" data-order-id="%s" data-order-key="%s" data-lang="%s"></script>',
			esc_url( $app . '/widget/loader.js' ),
			esc_attr( parrain_shop_id() ),
			esc_attr( (string) $order->get_id() ),
			esc_attr( $order->get_order_key() ),
			esc_attr( substr( get_locale(), 0, 2 ) )
		);
	}
);

/*
 * My account → "Referrals": the customer's own referral page on Parrain
 * (their link, share buttons, each friend's order, their rewards).
 *
 * The tab links to Parrain rather than embedding the page: Parrain serves it
 * with its own strict headers (no framing, no Referer), and the page stays
 * one server-rendered page for every door. The link is made when the
 * customer clicks (?open=1 on the tab), so it is fresh: Parrain accepts it
 * for 15 minutes. It carries the store, the logged-in customer's id and the
 * time, signed (HMAC-SHA256, hex) with the secret Parrain gave the store's
 * "Parrain …" webhooks: the store vouches for who is logged in, as
 * Shopify's app proxy does, without a key of its own and without a call
 * from the store to Parrain. Parrain finds the advocate by customer id
 * only, never by the account's email (WooCommerce does not verify it).
 */
const PARRAIN_ENDPOINT = 'parrain-referrals';

add_action(
	'init',
	function () {
		add_rewrite_endpoint( PARRAIN_ENDPOINT, EP_ROOT | EP_PAGES );
	}
);

register_activation_hook(
	__FILE__,
	function () {
		add_rewrite_endpoint( PARRAIN_ENDPOINT, EP_ROOT | EP_PAGES );
		flush_rewrite_rules();
	}
);

register_deactivation_hook( __FILE__, 'flush_rewrite_rules' );

add_filter(
	'woocommerce_get_query_vars',
	function ( $vars ) {
		$vars[ PARRAIN_ENDPOINT ] = PARRAIN_ENDPOINT;
		return $vars;
	}
);

add_filter(
	'woocommerce_account_menu_items',
	function ( $items ) {
		if ( '' === parrain_app_url() ) {
			return $items;
		}
		$out = array();
		foreach ( $items as $key => $label ) {
			if ( 'customer-logout' === $key ) {
				$out[ PARRAIN_ENDPOINT ] = __( 'Referrals', 'parrain' );
			}
			$out[ $key ] = $label;
		}
		if ( ! isset( $out[ PARRAIN_ENDPOINT ] ) ) {
			$out[ PARRAIN_ENDPOINT ] = __( 'Referrals', 'parrain' );
		}
		return $out;
	}
);

/** The secret Parrain set on this store's Parrain webhooks, '' if none. */
function parrain_shared_secret() {
	$app = parrain_app_url();
	if ( '' === $app || ! class_exists( 'WC_Data_Store' ) ) {
		return '';
	}
	$prefix = $app . '/webhooks/woocommerce/';
	foreach ( WC_Data_Store::load( 'webhook' )->get_webhooks_ids() as $id ) {
		$webhook = wc_get_webhook( $id );
		if ( $webhook && 0 === strpos( $webhook->get_delivery_url(), $prefix ) && '' !== (string) $webhook->get_secret() ) {
			return (string) $webhook->get_secret();
		}
	}
	return '';
}

/** A signed link to the customer's page on Parrain, '' if not connected. */
function parrain_page_link( $customer_id ) {
	$secret = parrain_shared_secret();
	if ( '' === $secret ) {
		return '';
	}
	$shop = parrain_shop_id();
	$ts   = (string) time();
	$id   = (string) absint( $customer_id );
	$sig  = hash_hmac( 'sha256', $shop . "\n" . $id . "\n" . $ts, $secret );
	return add_query_arg(
		array(
			'shop'        => rawurlencode( $shop ),
			'customer_id' => $id,
			'timestamp'   => $ts,
			'signature'   => $sig,
			'lang'        => substr( get_locale(), 0, 2 ),
		),
		parrain_app_url() . '/proxy/woocommerce/advocate'
	);
}

/* ?open=1 on the tab: sign now and go to Parrain. */
add_action(
	'template_redirect',
	function () {
		if ( ! isset( $_GET['open'] ) || ! function_exists( 'is_wc_endpoint_url' ) || ! is_wc_endpoint_url( PARRAIN_ENDPOINT ) || ! is_user_logged_in() ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- opens the visitor's own page, changes nothing.
			return;
		}
		$link = parrain_page_link( get_current_user_id() );
		if ( '' === $link ) {
			return;
		}
		nocache_headers();
		// phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect -- Parrain's address, set by the merchant.
		wp_redirect( $link, 303 );
		exit;
	}
);

add_action(
	'woocommerce_account_' . PARRAIN_ENDPOINT . '_endpoint',
	function () {
		if ( '' === parrain_shared_secret() ) {
			echo '<p>' . esc_html__( 'Referrals are not available right now.', 'parrain' ) . '</p>';
			return;
		}
		echo '<p>' . esc_html__( 'Your referral link, your friends\' orders and your rewards are on your referral page.', 'parrain' ) . '</p>';
		printf(
			'<p><a class="button" href="%s">%s</a></p>',
			esc_url( add_query_arg( 'open', '1', wc_get_account_endpoint_url( PARRAIN_ENDPOINT ) ) ),
			esc_html__( 'Open my referral page', 'parrain' )
		);
	}
);

/* Settings: the Parrain address and the "Connect to Parrain" button. */
add_action(
	'admin_menu',
	function () {
		add_submenu_page( 'woocommerce', 'Parrain', 'Parrain', 'manage_woocommerce', 'parrain', 'parrain_settings_page' );
	}
);

add_action(
	'admin_init',
	function () {
		register_setting(
			'parrain',
			PARRAIN_OPTION,
			array(
				'type'              => 'string',
				'sanitize_callback' => 'esc_url_raw',
				'default'           => '',
			)
		);
	}
);

/** The settings page. */
function parrain_settings_page() {
	if ( ! current_user_can( 'manage_woocommerce' ) ) {
		return;
	}
	$app = parrain_app_url();
	echo '<div class="wrap"><h1>' . esc_html__( 'Parrain referrals', 'parrain' ) . '</h1>';
	echo '<form method="post" action="options.php">';
	settings_fields( 'parrain' );
	echo '<table class="form-table"><tr><th scope="row"><label for="parrain_app_url">' . esc_html__( 'Parrain address', 'parrain' ) . '</label></th>';
	echo '<td><input type="url" class="regular-text" id="parrain_app_url" name="' . esc_attr( PARRAIN_OPTION ) . '" value="' . esc_attr( $app ) . '" placeholder="https://parrain.example.com"></td></tr></table>';
	submit_button();
	echo '</form>';
	if ( '' !== $app ) {
		// Parrain starts WooCommerce's own key-granting screen (wc-auth)
		// for this store; the merchant approves there.
		$connect = add_query_arg( 'store', rawurlencode( home_url() ), $app . '/auth/woocommerce/start' );
		echo '<p><a class="button button-primary" href="' . esc_url( $connect ) . '">' . esc_html__( 'Connect to Parrain', 'parrain' ) . '</a></p>';
	}
	echo '</div>';
}

/** Identifiers every service checks the same way; one definition so they cannot drift apart. */

/** Role ids: lowercase letters, digits and "-", 1-63 characters, starting with a letter or digit. */
export const ROLE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Session ids: 1-64 letters, digits, "_" or "-" (safe inside Redis keys and URLs). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

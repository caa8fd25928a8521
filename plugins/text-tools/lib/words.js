// @ts-check
/** Splits a text into words on anything that is not a letter or digit. */
exports.words = (/** @type {string} */ text) => text.split(/[^\p{L}\p{N}]+/u).filter(Boolean);

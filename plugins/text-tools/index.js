// @ts-check
// The worked example of docs/plugins.md: two tools, each one typed function with its schemas.
const { definePlugin, defineTool } = require('@troupe/plugin-sdk');
const { words } = require('./lib/words');

/** @type {import('@troupe/plugin-sdk').ToolDeclaration<{ text: string }, { words: number; characters: number }>} */
const wordCount = defineTool({
  name: 'word_count',
  description: 'Counts the words and characters of a text.',
  parameters: {
    type: 'object',
    properties: { text: { type: 'string', maxLength: 100000, description: 'The text to count' } },
    required: ['text'],
    additionalProperties: false,
  },
  result: {
    type: 'object',
    properties: { words: { type: 'integer' }, characters: { type: 'integer' } },
    required: ['words', 'characters'],
  },
  hints: { readOnly: true, idempotent: true },
  run: ({ text }) => ({ words: words(text).length, characters: [...text].length }),
});

/** @type {import('@troupe/plugin-sdk').ToolDeclaration<{ title: string; maxLength?: number }, { slug: string }>} */
const slugify = defineTool({
  name: 'slugify',
  description: 'Turns a title into a lowercase URL slug (ASCII letters, digits and dashes).',
  parameters: {
    type: 'object',
    properties: {
      title: { type: 'string', minLength: 1, maxLength: 1000 },
      maxLength: { type: 'integer', minimum: 1, maximum: 200, description: 'Longest slug, default 60' },
    },
    required: ['title'],
    additionalProperties: false,
  },
  result: { type: 'object', properties: { slug: { type: 'string' } }, required: ['slug'] },
  hints: { readOnly: true, idempotent: true },
  run: ({ title, maxLength = 60 }) => ({
    slug: words(title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase())
      .join('-')
      .replace(/[^a-z0-9-]/g, '')
      .slice(0, maxLength)
      .replace(/-+$/, ''),
  }),
});

module.exports = definePlugin({ tools: [wordCount, slugify] });

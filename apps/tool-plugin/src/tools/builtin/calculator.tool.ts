import { Tool } from '../tool';
import { evaluateExpression } from './expression-parser';

export const calculatorTool: Tool<{ expression: string }, { expression: string; value: number }> = {
  name: 'calculator',
  description: 'Evaluates an arithmetic expression (+ - * / % ^, parentheses, sqrt, abs, min, max, sin, cos, ln, exp, pi, e).',
  parameters: {
    type: 'object',
    properties: {
      expression: { type: 'string', minLength: 1, maxLength: 1000, description: 'The expression, e.g. "(2 + 3) * 4"' },
    },
    required: ['expression'],
    additionalProperties: false,
  },
  hints: { readOnly: true, idempotent: true },
  source: 'builtin',
  run: ({ expression }) => ({ expression, value: evaluateExpression(expression) }),
};

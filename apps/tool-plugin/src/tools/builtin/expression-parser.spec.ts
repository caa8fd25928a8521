import { ExpressionError, evaluateExpression } from './expression-parser';

describe('evaluateExpression', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['10 % 4', 2],
    ['sqrt(16) + abs(-3)', 7],
    ['max(1, 5, 3) - min(4, 2)', 3],
    ['1.5e3 / 3', 500],
    ['round(pi * 100)', 314],
  ])('%s = %d', (expr, expected) => {
    expect(evaluateExpression(expr)).toBeCloseTo(expected, 10);
  });

  it.each([
    ['1 +', /unexpected end/],
    ['2 * (3', /expected "\)"/],
    ['1 / 0', /division by zero/],
    ['process.exit(1)', /unknown name "process"/],
    ['sqrt(1, 2)', /takes 1..1 arguments/],
    ['3 $ 4', /unexpected "\$"/],
  ])('rejects %s', (expr, message) => {
    expect(() => evaluateExpression(expr)).toThrow(ExpressionError);
    expect(() => evaluateExpression(expr)).toThrow(message);
  });
});

/**
 * Arithmetic expressions by recursive descent (never eval): numbers, + - * / % ^, parentheses,
 * unary minus, constants (pi, e) and a fixed set of functions. Errors say where parsing stopped.
 */
const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...xs: number[]) => number }> = {
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  abs: { arity: [1, 1], fn: Math.abs },
  sin: { arity: [1, 1], fn: Math.sin },
  cos: { arity: [1, 1], fn: Math.cos },
  tan: { arity: [1, 1], fn: Math.tan },
  ln: { arity: [1, 1], fn: Math.log },
  log10: { arity: [1, 1], fn: Math.log10 },
  exp: { arity: [1, 1], fn: Math.exp },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  round: { arity: [1, 1], fn: Math.round },
  min: { arity: [1, 64], fn: Math.min },
  max: { arity: [1, 64], fn: Math.max },
};

const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

export class ExpressionError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at position ${position}`);
    this.name = 'ExpressionError';
  }
}

export function evaluateExpression(source: string): number {
  return new Parser(source).parse();
}

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parse(): number {
    const value = this.additive();
    this.skipSpaces();
    if (this.pos < this.src.length) throw new ExpressionError(`unexpected "${this.src[this.pos]}"`, this.pos);
    if (!Number.isFinite(value)) throw new ExpressionError('result is not a finite number', 0);
    return value;
  }

  private additive(): number {
    let value = this.multiplicative();
    for (;;) {
      if (this.eat('+')) value += this.multiplicative();
      else if (this.eat('-')) value -= this.multiplicative();
      else return value;
    }
  }

  private multiplicative(): number {
    let value = this.unary();
    for (;;) {
      if (this.eat('*')) value *= this.unary();
      else if (this.eat('/')) {
        const at = this.pos;
        const divisor = this.unary();
        if (divisor === 0) throw new ExpressionError('division by zero', at);
        value /= divisor;
      } else if (this.eat('%')) value %= this.unary();
      else return value;
    }
  }

  private unary(): number {
    if (this.eat('-')) return -this.unary();
    if (this.eat('+')) return this.unary();
    return this.power();
  }

  /** Right-associative, and binds tighter than unary minus on its left: -2^2 = -4. */
  private power(): number {
    const base = this.primary();
    if (this.eat('^')) return Math.pow(base, this.unary());
    return base;
  }

  private primary(): number {
    this.skipSpaces();
    const start = this.pos;
    if (this.eat('(')) {
      const value = this.additive();
      if (!this.eat(')')) throw new ExpressionError('expected ")"', this.pos);
      return value;
    }
    const number = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(this.src.slice(this.pos));
    if (number) {
      this.pos += number[0].length;
      return Number(number[0]);
    }
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(this.src.slice(this.pos));
    if (name) {
      this.pos += name[0].length;
      const id = name[0].toLowerCase();
      if (id in CONSTANTS) return CONSTANTS[id];
      const fn = FUNCTIONS[id];
      if (!fn) throw new ExpressionError(`unknown name "${name[0]}"`, start);
      if (!this.eat('(')) throw new ExpressionError(`expected "(" after ${id}`, this.pos);
      const args = [this.additive()];
      while (this.eat(',')) args.push(this.additive());
      if (!this.eat(')')) throw new ExpressionError('expected ")"', this.pos);
      if (args.length < fn.arity[0] || args.length > fn.arity[1]) {
        throw new ExpressionError(`${id} takes ${fn.arity[0]}..${fn.arity[1]} arguments, got ${args.length}`, start);
      }
      return fn.fn(...args);
    }
    throw new ExpressionError(this.pos >= this.src.length ? 'unexpected end of expression' : `unexpected "${this.src[this.pos]}"`, this.pos);
  }

  private eat(ch: string): boolean {
    this.skipSpaces();
    if (this.src[this.pos] === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  private skipSpaces(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }
}

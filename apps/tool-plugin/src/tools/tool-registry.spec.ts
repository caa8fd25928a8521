import { calculatorTool } from './builtin/calculator.tool';
import { ToolRegistry } from './tool-registry';

describe('ToolRegistry', () => {
  const registry = new ToolRegistry(1024);
  registry.register(calculatorTool);
  registry.register({
    name: 'big',
    description: 'returns too much',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
    run: () => 'x'.repeat(5000),
  });

  it('runs a valid call', async () => {
    await expect(registry.invoke('calculator', '{"expression":"6*7"}')).resolves.toEqual({ expression: '6*7', value: 42 });
  });

  it('names the missing field', async () => {
    await expect(registry.invoke('calculator', '{}')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENTS',
      message: expect.stringContaining('expression'),
    });
  });

  it('names a field of the wrong type', async () => {
    await expect(registry.invoke('calculator', '{"expression": 5}')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENTS',
      message: expect.stringContaining('expression: must be string'),
    });
  });

  it('rejects unknown tools, broken JSON, tool errors and oversized results', async () => {
    await expect(registry.invoke('nope', '{}')).rejects.toMatchObject({ code: 'UNKNOWN_TOOL' });
    await expect(registry.invoke('calculator', '{oops')).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS' });
    await expect(registry.invoke('calculator', '{"expression":"1/0"}')).rejects.toMatchObject({ code: 'TOOL_FAILED' });
    await expect(registry.invoke('big', '{}')).rejects.toMatchObject({ code: 'RESULT_TOO_LARGE' });
  });
});

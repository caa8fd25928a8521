import { parseRoleDefinition } from './role-definition.parser';

describe('parseRoleDefinition', () => {
  const valid = { id: 'guide', name: 'Guide', persona: 'You guide.', model: 'tiny-decoder' };

  it('fills defaults', () => {
    const role = parseRoleDefinition(valid);
    expect(role.generation.maxNewTokens).toBe(64);
    expect(role.tools).toEqual([]);
  });

  it('names bad and unknown fields, nested ones with their path', () => {
    expect(() => parseRoleDefinition({ ...valid, id: 'Bad Id' })).toThrow(/id: id must be lowercase/);
    expect(() => parseRoleDefinition({ ...valid, generation: { temperature: 9 } })).toThrow(/generation.temperature/);
    expect(() => parseRoleDefinition({ ...valid, colour: 'red' })).toThrow(/colour/);
    expect(() => parseRoleDefinition({ id: 'x' })).toThrow(/persona/);
    expect(() => parseRoleDefinition('nope')).toThrow(/JSON object/);
  });
});

import { checkPersonaTemplate, placeholders, renderPersona } from './persona-template';

describe('persona templates', () => {
  const template = 'You are {{ role_name }} for {{team}}. Goals: {{goals}}. {{team}} again.';

  it('lists placeholders once and renders them', () => {
    expect(placeholders(template)).toEqual(['role_name', 'team', 'goals']);
    expect(renderPersona(template, { role_name: 'Guide', team: 'ops', goals: 'help' })).toBe('You are Guide for ops. Goals: help. ops again.');
  });

  it('accepts built-ins and declared variables, and names everything else', () => {
    expect(checkPersonaTemplate(template, { team: 'ops' })).toEqual([]);
    expect(checkPersonaTemplate(template, {})).toEqual([expect.stringMatching(/^persona: uses \{\{team\}\}/)]);
    expect(checkPersonaTemplate('x', { user: 'a' })).toEqual(['variables.user: is a built-in variable']);
    expect(checkPersonaTemplate('x', { 'bad name': 'a' })).toEqual([expect.stringMatching(/^variables\.bad name: must be a name/)]);
    expect(checkPersonaTemplate('x', { n: 5 })).toEqual(['variables.n: must be a string of at most 2000 characters']);
  });
});

/** Variables every persona may use without declaring them. */
export const BUILTIN_VARIABLES = ['role_name', 'goals', 'style', 'user'] as const;

const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/gi;
const VARIABLE_NAME = /^[a-z_][a-z0-9_]{0,39}$/i;

export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** Problems with a persona template and its declared variables, each naming the field. */
export function checkPersonaTemplate(template: string, variables: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(variables)) {
    if (!VARIABLE_NAME.test(name)) problems.push(`variables.${name}: must be a name of letters, digits and "_"`);
    else if ((BUILTIN_VARIABLES as readonly string[]).includes(name)) problems.push(`variables.${name}: is a built-in variable`);
    if (typeof value !== 'string' || value.length > 2000) problems.push(`variables.${name}: must be a string of at most 2000 characters`);
  }
  for (const name of placeholders(template)) {
    if (!(BUILTIN_VARIABLES as readonly string[]).includes(name) && !(name in variables)) {
      problems.push(`persona: uses {{${name}}} which is neither built in (${BUILTIN_VARIABLES.join(', ')}) nor declared in variables`);
    }
  }
  return problems;
}

/** Fills every placeholder; unknown ones cannot occur (the template was checked when the role was stored). */
export function renderPersona(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => values[name] ?? '');
}

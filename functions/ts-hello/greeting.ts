export function greeting(name: string): string {
  return `Hello from TypeScript, ${name}!\n`;
}

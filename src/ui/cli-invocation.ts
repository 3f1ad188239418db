/**
 * How the page tells the user to run the command line on the server's machine: the same form as the server's own
 * hints (src/app/cli-invocation.ts; the page may not import it, and a test keeps the two equal).
 */
export const CLI_INVOCATION = 'npm run fooocus --';

export function formatCliCommand(args: string): string {
  return `${CLI_INVOCATION} ${args}`;
}

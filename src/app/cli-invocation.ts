/**
 * How a message tells the user to run the command line. The README's set-up puts nothing on PATH: the command runs
 * as npm's `fooocus` script, from the checkout, on the Node.js pinned in devDependencies. Every hint the app, the
 * server and the CLI print uses this form (src/ui/cli-invocation.ts holds the page's copy; a test keeps them equal
 * and scans the sources for any other form).
 */
export const CLI_INVOCATION = 'npm run fooocus --';

/** `args` (`models pull sdxl-base-1.0`) as a command the user can paste: `npm run fooocus -- models pull ...`. */
export function formatCliCommand(args: string): string {
  return `${CLI_INVOCATION} ${args}`;
}

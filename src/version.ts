/**
 * jobmeter's version; a test keeps it equal to package.json's.
 * @example
 *   console.log(`jobmeter ${VERSION}`);
 */
export const VERSION = '0.1.0';

// Mocha adds files named on the command line to the configured spec; run only those when any
// are named (`npx mocha dist/test/core/x.test.js`), the whole suite otherwise.
const named = process.argv.slice(2).filter((arg) => /\.test\.js$/.test(arg));
module.exports = {
  spec: named.length > 0 ? named : ["dist/test/**/*.test.js"],
  timeout: 120000,
  reporter: "spec",
  exit: true,
};

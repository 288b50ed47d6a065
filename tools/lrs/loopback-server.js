// The test LRS (xapi-statements' own server) listening on 127.0.0.1 only. Its server calls
// app.listen(EXPRESS_PORT), which listens on every interface, and has no setting for the address;
// it takes any request without auth, so it must not be reachable from another machine.
'use strict';

const path = require('path');

const server = require.resolve('xapi-statements/dist/server.js');
// The express module that server.js itself loads (resolved from its folder, not from here).
const express = require(require.resolve('express', { paths: [path.dirname(server)] }));

const listen = express.application.listen;
express.application.listen = function listenOnLoopback(port, ...rest) {
  return listen.call(this, port, '127.0.0.1', ...rest);
};

require(server);

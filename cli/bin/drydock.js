#!/usr/bin/env node
import '../dist/drydock.js';

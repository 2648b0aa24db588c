// @peculiar/x509 with the Reflect polyfill its dependency injection (tsyringe) needs loaded first: import
// the library from here, never directly, so the polyfill is always evaluated before it.
import 'reflect-metadata';

export * from '@peculiar/x509';

import { DynamicModule, Module } from '@nestjs/common';

/** Makes one already-validated config object injectable by its class everywhere in the app. */
@Module({})
export class ConfigModule {
  static forRoot<T extends object>(config: T): DynamicModule {
    const token = config.constructor as new () => T;
    return {
      module: ConfigModule,
      global: true,
      providers: [{ provide: token, useValue: config }],
      exports: [token],
    };
  }
}

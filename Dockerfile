# One image for all four services; compose picks the service by command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsx scripts/build-models.ts && node scripts/build.js && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production BIND_HOST=0.0.0.0
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto ./proto
COPY --from=build /app/roles ./roles
COPY --from=build /app/models ./models
COPY --from=build /app/plugins ./plugins
COPY package.json ./
USER node
CMD ["node", "dist/apps/session/src/main.js"]

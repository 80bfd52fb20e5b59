# Verdict: build the TypeScript, then run on a slim Node image as a non-root user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json buf.yaml buf.gen.yaml ./
COPY proto ./proto
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY policies ./policies
USER node
EXPOSE 50051 50052 9464
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["serve", "--policies", "/app/policies", "--grpc-addr", "0.0.0.0:50051", "--http-addr", "0.0.0.0:9464", "--admin-addr", "0.0.0.0:50052"]

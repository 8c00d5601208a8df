FROM node:20-slim

WORKDIR /app

# `npm start` runs the engine with tsx, a devDependency, so dev dependencies are installed too.
COPY package.json package-lock.json ./
RUN npm ci && npm cache clean --force

COPY . .

EXPOSE 3000
CMD ["npm", "start"]

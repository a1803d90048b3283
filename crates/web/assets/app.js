// console placeholder
